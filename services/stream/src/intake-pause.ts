import type { Logger } from '@tidemark/runtime';
import type { SinkBackpressure } from './backpressure';

// Pausing a partition's intake after its batch: while the warehouse's transactions take longer
// than their budget (the sink's backpressure), and while the session queue's oldest
// contributions wait longer than they may (so the queue cannot grow without bound).

/** How long a partition pauses after its batch while the session queue is behind. */
export const SESSION_QUEUE_PAUSE_MS = 1_000;

/** How long a partition pauses after its batch: the longer of the two reasons (0: not at all). */
export function pauseAfterBatch(sinkPauseMs: number, sessionQueueBehind: boolean): number {
  return Math.max(sinkPauseMs, sessionQueueBehind ? SESSION_QUEUE_PAUSE_MS : 0);
}

/** What pausing needs of the consumer. */
export interface PausableConsumer {
  pause(topics: { topic: string; partitions: number[] }[]): void;
  resume(topics: { topic: string; partitions: number[] }[]): void;
}

export class IntakePause {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly consumer: PausableConsumer,
    private readonly backpressure: SinkBackpressure,
    private readonly logger: Logger,
  ) {}

  /** After a batch's commit: pauses its partition if it should, and returns for how long. */
  afterBatch(
    topic: string,
    partition: number,
    sinkMs: number,
    sessionQueueBehind: boolean,
  ): number {
    const pausedMs = pauseAfterBatch(this.backpressure.observe(sinkMs), sessionQueueBehind);
    if (pausedMs === 0) return 0;
    const paused = [{ topic, partitions: [partition] }];
    this.consumer.pause(paused);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.consumer.resume(paused);
    }, pausedMs);
    this.timers.add(timer);
    this.logger.warn('the warehouse is behind: pausing the partition', {
      topic,
      partition,
      pausedMs,
      averageSinkMs: Math.round(this.backpressure.averageSinkMs ?? 0),
      sessionQueueBehind,
    });
    return pausedMs;
  }

  /** On stop: no partition is resumed any more. */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
