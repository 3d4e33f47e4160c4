/** How the stream slows its intake when the warehouse falls behind. */
export interface BackpressureOptions {
  /** A batch's transaction should take at most this long on average. */
  sinkBudgetMs: number;
  /** The longest a partition stays paused at once. */
  maxPauseMs: number;
  /** Weight of the newest batch in the running average (0..1]. */
  smoothing?: number;
}

/**
 * Watches the sink's latency per batch. While its running average exceeds the budget, the
 * partition that just committed pauses for as long as the average overshoots it (bounded), so
 * the warehouse catches up instead of the consumer queueing ever larger batches.
 */
export class SinkBackpressure {
  private averageMs: number | undefined;
  private readonly smoothing: number;

  constructor(private readonly options: BackpressureOptions) {
    this.smoothing = options.smoothing ?? 0.3;
  }

  /** Records a batch's sink time; returns how long its partition should pause (0: not at all). */
  observe(sinkMs: number): number {
    this.averageMs =
      this.averageMs === undefined
        ? sinkMs
        : this.averageMs + this.smoothing * (sinkMs - this.averageMs);
    const overshootMs = this.averageMs - this.options.sinkBudgetMs;
    return overshootMs > 0 ? Math.min(Math.round(overshootMs), this.options.maxPauseMs) : 0;
  }

  get averageSinkMs(): number | undefined {
    return this.averageMs;
  }
}
