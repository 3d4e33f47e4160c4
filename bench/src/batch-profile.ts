import type { BatchStats } from '@tidemark/stream';
import { distributionOf, type Distribution } from './stats';

/** One committed batch as the bench saw it: the pipeline's stats and when onBatch ran. */
export type BatchSample = Pick<
  BatchStats,
  'topic' | 'partition' | 'messages' | 'applied' | 'windows' | 'sinkMs' | 'pausedMs'
> & { seenAtMs: number };

/** Where a pipeline's time went over a run of batches. */
export interface BatchProfile {
  batches: number;
  messages: number;
  /** Messages per batch. */
  batchSize: Distribution;
  /** From a batch's arrival to its commit: waiting for the writer, decode, plan, SQL, commit. */
  sinkMs: Distribution;
  /** Window rows written per batch. */
  windowsPerBatch: Distribution;
  /** The share of the wall time spent inside batches (the rest: fetching, Kafka commits, idle). */
  sinkShare: number;
  /** Sink milliseconds per 1,000 messages. */
  sinkMsPer1000Messages: number;
  /** Partition pauses the pipeline's backpressure imposed after these batches, summed. */
  pausedMs: number;
  /** CPU time of the pipeline's process over its wall time (1 = one core busy), if measured. */
  processCpuShare: number | null;
  /** The whole machine's CPU busy share meanwhile (0..1, all cores), if measured. */
  machineCpuBusy: number | null;
  /** Messages per topic. */
  byTopic: Record<string, number>;
  /** Messages per second in consecutive 5 s intervals from the first batch: shows a slowdown. */
  epsPer5s: number[];
}

const INTERVAL_MS = 5_000;

/** Summarises the batches a pipeline committed during `wallMs`. */
export function profileBatches(
  samples: readonly BatchSample[],
  wallMs: number,
  processCpuShare: number | null = null,
  machineCpuBusy: number | null = null,
): BatchProfile {
  let messages = 0;
  let sinkTotalMs = 0;
  let pausedMs = 0;
  const byTopic: Record<string, number> = {};
  for (const sample of samples) {
    messages += sample.messages;
    sinkTotalMs += sample.sinkMs;
    pausedMs += sample.pausedMs;
    byTopic[sample.topic] = (byTopic[sample.topic] ?? 0) + sample.messages;
  }
  return {
    batches: samples.length,
    messages,
    batchSize: distributionOf(samples.map((sample) => sample.messages)),
    sinkMs: distributionOf(samples.map((sample) => sample.sinkMs)),
    windowsPerBatch: distributionOf(samples.map((sample) => sample.windows)),
    sinkShare: wallMs > 0 ? sinkTotalMs / wallMs : 0,
    sinkMsPer1000Messages: messages > 0 ? (sinkTotalMs * 1000) / messages : 0,
    pausedMs,
    processCpuShare,
    machineCpuBusy,
    byTopic,
    epsPer5s: ratesPerInterval(samples, INTERVAL_MS),
  };
}

/** Messages per second in each `intervalMs` from the first batch's start, by commit time. */
export function ratesPerInterval(samples: readonly BatchSample[], intervalMs: number): number[] {
  const first = samples[0];
  if (!first) return [];
  const startMs = first.seenAtMs - first.sinkMs;
  const counts: number[] = [];
  for (const sample of samples) {
    const index = Math.max(0, Math.floor((sample.seenAtMs - startMs) / intervalMs));
    while (counts.length <= index) counts.push(0);
    counts[index] = (counts[index] ?? 0) + sample.messages;
  }
  // The last interval is cut short by the last commit: its rate is over the time it covers.
  const lastIntervalMs =
    (samples.at(-1)?.seenAtMs ?? startMs) - startMs - (counts.length - 1) * intervalMs;
  return counts.map((count, index) => {
    const coveredMs = index === counts.length - 1 ? Math.max(lastIntervalMs, 1) : intervalMs;
    return Math.round((count * 1000) / coveredMs);
  });
}
