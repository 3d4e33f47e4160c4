import { waitFor, type Logger } from '@tidemark/runtime';
import type { BatchStats, EmittedStats } from '@tidemark/stream';
import type { Admin } from 'kafkajs';
import type { Knex } from 'knex';
import type { BatchSample } from './batch-profile';
import { machineCpuMeter } from './machine-cpu';
import { setGroupOffsets } from './kafka-offsets';
import {
  hasReached,
  markKey,
  parseMarkKey,
  RangeProgress,
  type OffsetMarks,
  type OffsetRange,
} from './offset-marks';
import { ratePerSec } from './stats';

/**
 * Hands each committed batch, stamped with Date.now() on arrival, to whoever listens now; and
 * each batch's emission (its changes made visible in the provisional values).
 */
export class BatchTap {
  private listener: ((stats: BatchStats, seenAtMs: number) => void) | undefined;
  private emittedListener: ((stats: EmittedStats) => void) | undefined;

  readonly onBatch = (stats: BatchStats): void => {
    this.listener?.(stats, Date.now());
  };

  readonly onEmitted = (stats: EmittedStats): void => {
    this.emittedListener?.(stats);
  };

  listen(listener: ((stats: BatchStats, seenAtMs: number) => void) | undefined): void {
    this.listener = listener;
  }

  listenEmitted(listener: ((stats: EmittedStats) => void) | undefined): void {
    this.emittedListener = listener;
  }
}

export function sampleOf(stats: BatchStats, seenAtMs: number): BatchSample {
  const { topic, partition, messages, applied, windows, sinkMs, pausedMs } = stats;
  return { topic, partition, messages, applied, windows, sinkMs, pausedMs, seenAtMs };
}

/**
 * Positions a fresh pipeline at `marks`: stored in ops.consumer_offsets (no event time yet), as
 * the pipeline itself would have, and committed as its Kafka group's offsets, so its consumer
 * fetches from there at once instead of waiting for a newer message to seek back from.
 */
export async function positionPipeline(
  warehouse: Knex,
  admin: Admin,
  pipeline: string,
  marks: OffsetMarks,
): Promise<void> {
  const rows = [...marks].map(([key, offset]) => {
    const { topic, partition } = parseMarkKey(key);
    return {
      group_id: pipeline,
      topic,
      partition,
      next_offset: offset.toString(),
      first_offset: offset.toString(),
      max_event_time_ms: null,
      max_committed_at_ms: null,
      max_committed_lsn: null,
      min_committed_at_ms: null,
    };
  });
  await warehouse('ops.consumer_offsets')
    .insert(rows)
    .onConflict(['group_id', 'topic', 'partition'])
    .merge([
      'next_offset',
      'first_offset',
      'max_event_time_ms',
      'max_committed_at_ms',
      'max_committed_lsn',
      'min_committed_at_ms',
    ]);
  await setGroupOffsets(admin, pipeline, marks);
}

/** The offsets a pipeline has stored with its committed batches. */
export async function storedOffsets(warehouse: Knex, pipeline: string): Promise<OffsetMarks> {
  const rows: { topic: string; partition: number; next_offset: string }[] = await warehouse(
    'ops.consumer_offsets',
  )
    .where({ group_id: pipeline })
    .select('topic', 'partition', 'next_offset');
  return new Map(
    rows.map((row) => [markKey(row.topic, row.partition), BigInt(row.next_offset)] as const),
  );
}

/** Waits until the pipeline's stored offsets reach `marks` on every partition. */
export async function waitUntilStored(
  warehouse: Knex,
  pipeline: string,
  marks: OffsetMarks,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `pipeline ${pipeline} to store offsets up to the end of the range`,
    async () => (hasReached(await storedOffsets(warehouse, pipeline), marks) ? true : undefined),
    { timeoutMs, intervalMs: 100 },
  );
}

export interface PipelineThroughput {
  messages: number;
  /** From the first batch's arrival to the commit of the batch that completed the range. */
  elapsedMs: number;
  eps: number;
  completed: boolean;
  /** From the pipeline having joined its group to the range's completion (or the timeout). */
  joinedToDoneMs: number;
  /** This process's CPU time over that same time: the pipeline is all it runs meanwhile. */
  processCpuShare: number;
  /** The whole machine's CPU busy share over that time (Kafka and PostgreSQL included). */
  machineCpuBusy: number | null;
  samples: BatchSample[];
}

/**
 * Waits until none of the session contributions a pipeline's batches queued is still waiting to
 * be applied: until then the pipeline has not done all the work of the changes it read.
 */
export async function waitUntilSessionsApplied(
  warehouse: Knex,
  pipeline: string,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `pipeline ${pipeline} to apply its queued session contributions`,
    async () =>
      (await warehouse('stream.session_inbox').where({ pipeline }).first('id')) ? undefined : true,
    { timeoutMs, intervalMs: 20 },
  );
}

/**
 * Times a pipeline positioned at the range's start until its committed batches cover the range
 * (checked against its stored offsets) and `settled` resolves (the work they queued is done),
 * or reports the partial rate after `timeoutMs`. Call it before the pipeline starts, and
 * `begin` once it has joined its group.
 */
export function trackThroughput(
  tap: BatchTap,
  range: OffsetRange,
  logger: Logger,
  settled: (timeoutMs: number) => Promise<void> = async () => undefined,
): { begin(timeoutMs: number): Promise<PipelineThroughput> } {
  const progress = new RangeProgress(range);
  const samples: BatchSample[] = [];
  let firstStartMs: number | undefined;
  let lastSeenAtMs = 0;
  let finish: (atMs: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let lastLoggedAtMs = Date.now();
  tap.listen((stats, seenAtMs) => {
    samples.push(sampleOf(stats, seenAtMs));
    firstStartMs ??= seenAtMs - stats.sinkMs;
    lastSeenAtMs = seenAtMs;
    if (progress.advance(stats.topic, stats.partition, stats.messages)) finish(seenAtMs);
    if (seenAtMs - lastLoggedAtMs >= 5_000) {
      logger.info('pipeline progress', { processed: progress.processed() });
      lastLoggedAtMs = seenAtMs;
    }
  });
  return {
    async begin(timeoutMs) {
      const joinedAtMs = Date.now();
      const cpu = cpuMeter();
      const machine = machineCpuMeter();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      });
      const coveredAtMs = await Promise.race([done, timedOut]);
      clearTimeout(timer);
      tap.listen(undefined);
      let doneAtMs = coveredAtMs;
      if (coveredAtMs !== undefined) {
        const left = Math.max(1_000, timeoutMs - (Date.now() - joinedAtMs));
        doneAtMs = await settled(left).then(
          () => Math.max(coveredAtMs, Date.now()),
          (error: unknown) => {
            logger.warn('the pipeline did not finish its queued work in time', {
              error: String(error),
            });
            return undefined;
          },
        );
      }
      const completed = doneAtMs !== undefined;
      const endMs = doneAtMs ?? lastSeenAtMs;
      const elapsedMs = firstStartMs === undefined ? 0 : endMs - firstStartMs;
      const messages = progress.processed();
      const joinedToDoneMs = (doneAtMs ?? Date.now()) - joinedAtMs;
      return {
        messages,
        elapsedMs,
        eps: ratePerSec(messages, elapsedMs),
        completed,
        joinedToDoneMs,
        processCpuShare: cpu.shareOf(joinedToDoneMs),
        machineCpuBusy: machine.busyShare(),
        samples,
      };
    },
  };
}

/**
 * Latencies (the emission making a change visible in the provisional values, minus its source
 * commit) of every change a pipeline applies meanwhile, and the batches' samples.
 */
export function trackLatency(tap: BatchTap): {
  stop(): {
    latenciesMs: number[];
    /** The same changes' latencies to their batch's commit, before their emission. */
    commitLatenciesMs: number[];
    samples: BatchSample[];
    processCpuShare: number;
    machineCpuBusy: number | null;
  };
} {
  const startedAtMs = Date.now();
  const cpu = cpuMeter();
  const machine = machineCpuMeter();
  const latenciesMs: number[] = [];
  const commitLatenciesMs: number[] = [];
  const samples: BatchSample[] = [];
  tap.listen((stats, seenAtMs) => samples.push(sampleOf(stats, seenAtMs)));
  tap.listenEmitted((stats) => {
    for (const committedAtMs of stats.committedAtMs) {
      latenciesMs.push(stats.emittedAtMs - committedAtMs);
      commitLatenciesMs.push(stats.appliedAtMs - committedAtMs);
    }
  });
  return {
    stop() {
      tap.listen(undefined);
      tap.listenEmitted(undefined);
      return {
        latenciesMs,
        commitLatenciesMs,
        samples,
        processCpuShare: cpu.shareOf(Date.now() - startedAtMs),
        machineCpuBusy: machine.busyShare(),
      };
    },
  };
}

/** This process's CPU time (user + system, all threads) since it was created, per wall time. */
function cpuMeter(): { shareOf(wallMs: number): number } {
  const start = process.cpuUsage();
  return {
    shareOf(wallMs) {
      const used = process.cpuUsage(start);
      return wallMs > 0 ? (used.user + used.system) / 1000 / wallMs : 0;
    },
  };
}
