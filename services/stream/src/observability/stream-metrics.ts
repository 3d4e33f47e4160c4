import { TidemarkError } from '@tidemark/runtime';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';
import type {
  BatchStats,
  EmittedStats,
  SessionQueueStats,
  SessionStats,
} from '../pipeline-options';
import type { StreamGap } from '../positions';

/** Every stream metric's name starts with this. */
export const STREAM_METRIC_PREFIX = 'tidemark_stream_';

/** The `pipeline` label when the caller names none. */
export const DEFAULT_PIPELINE_LABEL = 'default';

/** Source commit to provisional upsert: 10 ms .. 30 s. */
export const END_TO_END_LATENCY_BUCKETS_SECONDS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30,
] as const;

/** One batch's warehouse transaction: 1 ms .. 10 s. */
export const SINK_DURATION_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Messages in one batch. */
export const BATCH_SIZE_BUCKETS = [
  1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
] as const;

export interface StreamMetricsOptions {
  /** The value of the `pipeline` label on every series this instance writes. */
  pipeline?: string;
}

/** The stream pipeline's Prometheus metrics, fed from `onBatch` and `watermarks()`. */
export interface StreamMetrics {
  registry: Registry;
  /** Records one committed batch. */
  observeBatch(stats: BatchStats): void;
  /** Records when a batch's changes became visible in the provisional values. */
  observeEmitted(stats: EmittedStats): void;
  /** Records one application of queued session contributions (its late ones). */
  observeSessions(stats: SessionStats): void;
  /** Sets the session queue's depth and the wait of its oldest batch. */
  observeSessionQueue(queue: SessionQueueStats): void;
  /** Counts the messages of a gap: offsets Kafka deleted before the pipeline read them. */
  observeGap(gap: StreamGap): void;
  /** Sets each metric's watermark delay (`nowMs - watermark`); a metric with no watermark has no series. */
  observeWatermarks(watermarks: ReadonlyMap<string, number | null>, nowMs: number): void;
}

const PIPELINE_TOPIC = ['pipeline', 'topic'] as const;

/**
 * Registers the stream metrics in `registry` (a new one by default). Several pipelines may share
 * one registry: each instance reuses the metrics already registered and writes its own
 * `pipeline` label.
 */
export function createStreamMetrics(
  registry: Registry = new Registry(),
  options: StreamMetricsOptions = {},
): StreamMetrics {
  const pipeline = options.pipeline ?? DEFAULT_PIPELINE_LABEL;

  const consumerLag = gaugeIn(registry, {
    name: `${STREAM_METRIC_PREFIX}consumer_lag_messages`,
    help: 'Messages behind the partition high watermark after the last committed batch.',
    labelNames: ['pipeline', 'topic', 'partition'] as const,
  });
  const endToEndLatency = histogramIn(registry, {
    name: `${STREAM_METRIC_PREFIX}end_to_end_latency_seconds`,
    help: 'Time from a change committing in the source database to its provisional value being emitted.',
    labelNames: PIPELINE_TOPIC,
    buckets: [...END_TO_END_LATENCY_BUCKETS_SECONDS],
  });
  const watermarkDelay = gaugeIn(registry, {
    name: `${STREAM_METRIC_PREFIX}watermark_delay_seconds`,
    help: "How far a metric's event-time watermark is behind the wall clock.",
    labelNames: ['pipeline', 'metric'] as const,
  });
  const sessionQueueBatches = gaugeIn(registry, {
    name: `${STREAM_METRIC_PREFIX}session_queue_batches`,
    help: 'Batches whose session-window contributions are queued, not yet applied.',
    labelNames: ['pipeline'] as const,
  });
  const sessionQueueWait = gaugeIn(registry, {
    name: `${STREAM_METRIC_PREFIX}session_queue_oldest_wait_seconds`,
    help: 'How long the oldest queued session-window contributions have waited to be applied.',
    labelNames: ['pipeline'] as const,
  });
  const eventsApplied = counterIn(registry, {
    name: `${STREAM_METRIC_PREFIX}events_applied_total`,
    help: 'Changes applied to provisional metric values.',
    labelNames: PIPELINE_TOPIC,
  });
  const duplicates = counterIn(registry, {
    name: `${STREAM_METRIC_PREFIX}duplicates_total`,
    help: 'Changes skipped because their row version was already applied.',
    labelNames: PIPELINE_TOPIC,
  });
  const late = counterIn(registry, {
    name: `${STREAM_METRIC_PREFIX}late_total`,
    help: 'Contributions that arrived after their window closed, recorded in the late ledger.',
    labelNames: PIPELINE_TOPIC,
  });
  const deadLettered = counterIn(registry, {
    name: `${STREAM_METRIC_PREFIX}dead_lettered_total`,
    help: 'Messages that could not be decoded and went to the dead-letter table.',
    labelNames: PIPELINE_TOPIC,
  });
  const gapMessages = counterIn(registry, {
    name: `${STREAM_METRIC_PREFIX}gap_messages_total`,
    help: 'Messages Kafka deleted before the pipeline read them, recorded in ops.stream_gaps.',
    labelNames: [...PIPELINE_TOPIC, 'partition'],
  });
  const paused = counterIn(registry, {
    name: `${STREAM_METRIC_PREFIX}paused_seconds_total`,
    help: 'Time partitions spent paused because the warehouse sink was behind (backpressure).',
    labelNames: PIPELINE_TOPIC,
  });
  const sinkDuration = histogramIn(registry, {
    name: `${STREAM_METRIC_PREFIX}sink_duration_seconds`,
    help: "Duration of one batch's warehouse transaction.",
    labelNames: PIPELINE_TOPIC,
    buckets: [...SINK_DURATION_BUCKETS_SECONDS],
  });
  const batchSize = histogramIn(registry, {
    name: `${STREAM_METRIC_PREFIX}batch_size_messages`,
    help: 'Messages in one committed batch.',
    labelNames: PIPELINE_TOPIC,
    buckets: [...BATCH_SIZE_BUCKETS],
  });

  return {
    registry,
    observeBatch(stats) {
      const labels = { pipeline, topic: stats.topic };
      consumerLag.set({ ...labels, partition: String(stats.partition) }, stats.lagMessages);
      eventsApplied.inc(labels, stats.applied);
      duplicates.inc(labels, stats.duplicates);
      late.inc(labels, stats.late);
      deadLettered.inc(labels, stats.deadLettered);
      paused.inc(labels, stats.pausedMs / 1000);
      sinkDuration.observe(labels, stats.sinkMs / 1000);
      batchSize.observe(labels, stats.messages);
    },
    observeEmitted(stats) {
      const labels = { pipeline, topic: stats.topic };
      for (const sourceCommittedAtMs of stats.committedAtMs) {
        // Clock skew between the source and this host can make it negative; a histogram cannot.
        const seconds = Math.max(0, stats.emittedAtMs - sourceCommittedAtMs) / 1000;
        endToEndLatency.observe(labels, seconds);
      }
    },
    observeSessionQueue(queue) {
      sessionQueueBatches.set({ pipeline }, queue.batches);
      sessionQueueWait.set({ pipeline }, queue.oldestWaitMs / 1000);
    },
    observeSessions(stats) {
      for (const [topic, count] of stats.lateByTopic) late.inc({ pipeline, topic }, count);
    },
    observeGap(gap) {
      gapMessages.inc(
        { pipeline, topic: gap.topic, partition: String(gap.partition) },
        Number(gap.missingUntil - gap.missingFrom),
      );
    },
    observeWatermarks(watermarks, nowMs) {
      for (const [metric, watermark] of watermarks) {
        const labels = { pipeline, metric };
        if (watermark === null) watermarkDelay.remove(labels);
        else watermarkDelay.set(labels, (nowMs - watermark) / 1000);
      }
    },
  };
}

/** The metric `name` already in `registry`, if any; it must be a `Kind`. */
function registeredAs<T>(
  registry: Registry,
  name: string,
  Kind: abstract new (...args: never[]) => T,
): T | undefined {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return undefined;
  if (!(existing instanceof Kind)) {
    throw new TidemarkError('BAD_INPUT', `metric ${name} is already registered as another type`, {
      context: { name },
    });
  }
  return existing;
}

function counterIn<L extends string>(registry: Registry, config: CounterConfiguration<L>) {
  return (
    (registeredAs(registry, config.name, Counter) as Counter<L> | undefined) ??
    new Counter({ ...config, registers: [registry] })
  );
}

function gaugeIn<L extends string>(registry: Registry, config: GaugeConfiguration<L>) {
  return (
    (registeredAs(registry, config.name, Gauge) as Gauge<L> | undefined) ??
    new Gauge({ ...config, registers: [registry] })
  );
}

function histogramIn<L extends string>(registry: Registry, config: HistogramConfiguration<L>) {
  return (
    (registeredAs(registry, config.name, Histogram) as Histogram<L> | undefined) ??
    new Histogram({ ...config, registers: [registry] })
  );
}
