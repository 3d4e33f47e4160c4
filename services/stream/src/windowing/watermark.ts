import type { MetricDefinition } from '@tidemark/contracts';

/** What the tracker knows of one assigned partition. */
interface PartitionProgress {
  /** The largest event time read from it, if any. */
  maxEventTimeMs: number | undefined;
  /** When an event was last read from it (processing time). */
  lastEventAtMs: number;
  /** Whether everything it holds has been read (its position reached the high watermark). */
  caughtUp: boolean;
}

/**
 * Event-time progress of one source table's topic across its partitions. The table's event clock
 * is the minimum of its partitions' largest event times, so one partition running ahead cannot
 * make another's events late. A partition read to its end and quiet for the idle timeout stops
 * holding the clock back; when every partition is quiet, the Debezium heartbeat (the source
 * database's commit clock) moves it on, so windows close when traffic stops.
 */
export class EventClock {
  private readonly partitions = new Map<number, PartitionProgress>();
  /** Partitions other consumers of the group own, as they last stored their progress. */
  private readonly foreign = new Map<number, { maxEventTimeMs: number; storedAtMs: number }>();
  private sourceClockMs: number | undefined;

  constructor(private readonly idleTimeoutMs: number) {}

  /** Starts tracking an assigned partition, with what a previous run stored for it. */
  assign(
    partition: number,
    options: { maxEventTimeMs?: number; caughtUp: boolean; nowMs: number },
  ): void {
    const known = this.partitions.get(partition);
    this.foreign.delete(partition);
    this.partitions.set(partition, {
      maxEventTimeMs: maxOf(known?.maxEventTimeMs, options.maxEventTimeMs),
      lastEventAtMs: options.nowMs,
      caughtUp: options.caughtUp,
    });
  }

  /** Stops tracking partitions given to another consumer. */
  revoke(partition: number): void {
    this.partitions.delete(partition);
  }

  assigned(): number[] {
    return [...this.partitions.keys()];
  }

  observeEvent(partition: number, eventTimeMs: number, nowMs: number): void {
    const progress = this.progressOf(partition, nowMs);
    progress.maxEventTimeMs = maxOf(progress.maxEventTimeMs, eventTimeMs);
    progress.lastEventAtMs = nowMs;
  }

  /** Records whether a partition has been read to its end after a batch. */
  observePosition(partition: number, caughtUp: boolean, nowMs: number): void {
    this.progressOf(partition, nowMs).caughtUp = caughtUp;
  }

  /**
   * Another consumer's partition, from the progress it stored with its last batch: it holds the
   * clock back while it is being written to, so several consumers share one watermark.
   */
  observeForeign(partition: number, maxEventTimeMs: number, storedAtMs: number): void {
    if (this.partitions.has(partition)) return;
    this.foreign.set(partition, { maxEventTimeMs, storedAtMs });
  }

  /** A Debezium heartbeat: the source database has committed nothing unread before this time. */
  observeSourceClock(committedAtMs: number): void {
    this.sourceClockMs = maxOf(this.sourceClockMs, committedAtMs);
  }

  maxEventTimeOf(partition: number): number | undefined {
    return this.partitions.get(partition)?.maxEventTimeMs;
  }

  /** The table's event time: no later unread event should be older, up to out-of-orderness. */
  nowMs(processingNowMs: number): number | undefined {
    // A partition read to its end holds the clock only while events keep arriving on it; one
    // that never had any holds nothing back.
    const holding = [...this.partitions.values()].filter(
      (progress) =>
        !progress.caughtUp ||
        (progress.maxEventTimeMs !== undefined &&
          processingNowMs - progress.lastEventAtMs < this.idleTimeoutMs),
    );
    const foreign = [...this.foreign.values()];
    const foreignHolding = foreign.filter(
      (progress) => processingNowMs - progress.storedAtMs < this.idleTimeoutMs,
    );
    if (holding.length === 0 && foreignHolding.length === 0) {
      const seen = [...this.partitions.values()].map((progress) => progress.maxEventTimeMs);
      return maxOf(this.sourceClockMs, ...seen, ...foreign.map((p) => p.maxEventTimeMs));
    }
    let clock = Number.POSITIVE_INFINITY;
    for (const progress of foreignHolding) clock = Math.min(clock, progress.maxEventTimeMs);
    for (const progress of holding) {
      // A partition with unread events but none read yet: nothing can be said.
      if (progress.maxEventTimeMs === undefined) return undefined;
      clock = Math.min(clock, progress.maxEventTimeMs);
    }
    return clock;
  }

  private progressOf(partition: number, nowMs: number): PartitionProgress {
    let progress = this.partitions.get(partition);
    if (!progress) {
      progress = { maxEventTimeMs: undefined, lastEventAtMs: nowMs, caughtUp: false };
      this.partitions.set(partition, progress);
    }
    return progress;
  }
}

function maxOf(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((value): value is number => value !== undefined);
  return defined.length === 0 ? undefined : Math.max(...defined);
}

/**
 * A metric's watermark: its table's event clock less the out-of-orderness it tolerates. It
 * never goes back, even when a partition with older events is assigned later.
 */
export function advanceWatermark(
  previousMs: number | null,
  eventClockMs: number | undefined,
  outOfOrdernessMs: number,
): number | null {
  if (eventClockMs === undefined) return previousMs;
  const candidate = eventClockMs - outOfOrdernessMs;
  return previousMs === null ? candidate : Math.max(previousMs, candidate);
}

/** What a metric's watermark depends on. */
type WatermarkedMetric = Pick<MetricDefinition, 'name' | 'source' | 'outOfOrdernessMs'>;

/**
 * One consumer's event clocks, one per source table, and each metric's watermark, advanced from
 * its table's clock. `current` is live: whoever holds it sees each advance.
 */
export class MetricWatermarks {
  readonly current: Map<string, number | null>;
  private readonly clocks: Map<string, EventClock>;

  constructor(
    private readonly metrics: readonly WatermarkedMetric[],
    tables: Iterable<string>,
    idleTimeoutMs: number,
  ) {
    this.current = new Map(metrics.map((metric) => [metric.name, null]));
    this.clocks = new Map([...tables].map((table) => [table, new EventClock(idleTimeoutMs)]));
  }

  /** The event clock of a source table (undefined for a table the pipeline does not read). */
  clockOf(table: string): EventClock | undefined {
    return this.clocks.get(table);
  }

  /** Takes up the watermarks a previous run stored, for the metrics computed here. */
  restore(stored: ReadonlyMap<string, number>): void {
    for (const [metric, watermark] of stored) {
      if (this.current.has(metric)) this.current.set(metric, watermark);
    }
  }

  /** A Debezium heartbeat: every table's clock learns the source database's commit time. */
  observeSourceClock(committedAtMs: number): void {
    for (const clock of this.clocks.values()) clock.observeSourceClock(committedAtMs);
  }

  /** Advances every metric's watermark from its table's clock, never backwards. */
  advance(processingNowMs: number): void {
    for (const metric of this.metrics) {
      const clock = this.clocks.get(metric.source.table);
      const next = advanceWatermark(
        this.current.get(metric.name) ?? null,
        clock?.nowMs(processingNowMs),
        metric.outOfOrdernessMs,
      );
      this.current.set(metric.name, next);
    }
  }
}
