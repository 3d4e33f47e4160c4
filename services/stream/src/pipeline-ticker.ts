import type { MetricDefinition } from '@tidemark/contracts';
import type { Logger } from '@tidemark/runtime';
import type { Knex } from 'knex';
import type { EmissionScheduler } from './emission-scheduler';
import type { PartitionClocks } from './partition-clocks';
import type { SessionQueueWatch } from './session-reporting';
import { watermarksToEmit, writeDueSessions } from './session-store';
import type { ShardOwnership } from './shard-ownership';
import { emitAndClose } from './window-emission';
import { defersSessionRows } from './windowing/session-rows';

// The pipeline's tick: what happens without new changes. Each tick reads the session queue's
// wait and the other consumers' progress, advances the watermarks, then in each lane emits the
// shards this consumer owns and what is due, and closes windows, in one transaction in turn
// with the lane's other emissions. A session metric is emitted and closed only up to the
// watermark of the oldest batch still queued (watermarksToEmit), so no session closes without
// its queued changes. One tick runs at a time.

/** An emission lane and the metrics it emits. */
export interface TickLane {
  lane: EmissionScheduler;
  metrics: MetricDefinition[];
}

/** When an `every` metric was last emitted, and whether it is due. */
export class IntervalEmissions {
  private readonly lastEmitMs = new Map<string, number>();

  isDue(metric: MetricDefinition, nowMs: number): boolean {
    if (metric.emit.kind !== 'every') return false;
    return nowMs - (this.lastEmitMs.get(metric.name) ?? 0) >= metric.emit.intervalMs;
  }

  emitted(names: readonly string[], atMs: number): void {
    for (const name of names) this.lastEmitMs.set(name, atMs);
  }
}

export interface PipelineTickerDeps {
  pipeline: string;
  tickMs: number;
  lanes: readonly TickLane[];
  clocks: PartitionClocks;
  sessionQueue: SessionQueueWatch;
  ownership: ShardOwnership;
  /** The metrics' watermarks now, live. */
  watermarks: ReadonlyMap<string, number | null>;
  advanceWatermarks: () => void;
  logger: Logger;
  now: () => number;
}

export class PipelineTicker {
  private readonly intervals = new IntervalEmissions();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: PipelineTickerDeps) {}

  start(): void {
    this.timer = setInterval(() => this.startTick(), this.deps.tickMs);
  }

  /** Stops ticking, and waits for a tick under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
  }

  private startTick(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = this.tick().finally(() => (this.ticking = undefined));
  }

  private async tick(): Promise<void> {
    const { logger, lanes, clocks, sessionQueue } = this.deps;
    await sessionQueue
      .observe()
      .catch((error: unknown) =>
        logger.error('reading the session queue failed', { error: String(error) }),
      );
    await clocks
      .observeOtherConsumers()
      .then(this.deps.advanceWatermarks)
      .catch((error: unknown) =>
        logger.error("reading the other consumers' progress failed", { error: String(error) }),
      );
    await Promise.all(
      lanes.map(({ lane, metrics }) =>
        lane
          .emitThen((trx) => this.emitDueAndClose(trx, metrics))
          .then((emittedIntervals) => this.intervals.emitted(emittedIntervals, this.deps.now()))
          .catch((error: unknown) =>
            logger.error('emitting provisional values failed', { error: String(error) }),
          ),
      ),
    );
  }

  /** A lane's emission of due values and closing of windows; returns the `every` metrics emitted. */
  private async emitDueAndClose(
    trx: Knex.Transaction,
    metrics: readonly MetricDefinition[],
  ): Promise<string[]> {
    const { pipeline, watermarks, ownership, now } = this.deps;
    const emittedIntervals: string[] = [];
    const held = await watermarksToEmit(trx, pipeline, metrics, watermarks);
    await this.writeDueSessions(trx, metrics, held);
    await emitAndClose(
      trx,
      pipeline,
      metrics,
      held,
      (metric) => {
        const due = this.intervals.isDue(metric, now());
        if (due) emittedIntervals.push(metric.name);
        return due;
      },
      (metric) => ownership.ownedShards(metric),
    );
    return emittedIntervals;
  }

  /**
   * The rows of sessions now due, of the shards this consumer owns (`writeDueSessions`), for the
   * emission that follows; a shard another consumer holds is left to it. A session closes only
   * after its row is written and emitted, so no value is closed unseen.
   */
  private async writeDueSessions(
    trx: Knex.Transaction,
    metrics: readonly MetricDefinition[],
    watermarks: ReadonlyMap<string, number | null>,
  ): Promise<void> {
    const { pipeline, ownership } = this.deps;
    for (const metric of metrics.filter(defersSessionRows)) {
      for (const shard of ownership.ownedSessionShards(metric)) {
        // A bounded number of keys per tick: the next tick goes on where this one stopped.
        await writeDueSessions(trx, pipeline, shard, metric, watermarks.get(metric.name) ?? null);
      }
    }
  }
}
