import type { Logger } from '@tidemark/runtime';
import { AssignerProtocol, type Admin } from 'kafkajs';
import type { Knex } from 'knex';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { messagesBetween, parseMarkKey, type OffsetRange } from './offset-marks';
import {
  positionPipeline,
  storedOffsets,
  waitUntilSessionsApplied,
  waitUntilStored,
} from './pipeline-run';
import {
  cpuPerChangeOf,
  PIPELINE_PROCESS_SCRIPT,
  processCpuMeter,
  type CpuPerChange,
} from './process-cpu';
import type { ShopPipelines } from './shop-pipelines';
import { lockWaitsOf, type LockWaits } from './sql-profile';
import { startSqlSampler } from './sql-sampler';
import { ratePerSec } from './stats';

/** The range read by one pipeline run by two consumer processes of its group. */
export interface ScaleOutMeasurement {
  consumers: number;
  /** Messages read once both consumers had their partitions: what the rate is measured over. */
  messages: number;
  elapsedMs: number;
  eps: number;
  /** False when the range was not done in time, or the group never had both consumers. */
  completed: boolean;
  /** Backends waiting on locks meanwhile (one partition's transaction on another's rows). */
  lockWaits: LockWaits;
  cpuPerChange: CpuPerChange | null;
}

export interface ScaleOutDeps {
  runId: string;
  /** When the range's changes were committed in the source: what `unland` looks between. */
  committedBetween: { fromMs: number; toMs: number };
  admin: Admin;
  warehouse: Knex;
  pipelines: ShopPipelines;
  logger: Logger;
  timeoutMs: number;
}

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const SQL_SAMPLE_MS = 20;

/**
 * Reads the range again with one pipeline run by two processes: the bench's own and a second
 * one (`pipeline-process.ts`) in the same consumer group. Both start together; the rate, the
 * lock waits and every process's CPU are measured from the moment the group has both consumers
 * with their partitions (Kafka hands a group's partitions to its first member until the second
 * joins) to the end of the range.
 */
export async function measureScaleOut(
  deps: ScaleOutDeps,
  range: OffsetRange,
): Promise<ScaleOutMeasurement> {
  const { admin, warehouse, pipelines, logger } = deps;
  const pipeline = `${deps.runId}-scale-out`;
  const total = messagesBetween(range.start, range.end);
  await unland(warehouse, range, deps.committedBetween);
  await positionPipeline(warehouse, admin, pipeline, range.start);
  const second = spawnPipelineProcess(pipeline);
  try {
    await Promise.all([pipelines.join(pipeline, logger), joinedLine(second)]);
    const stable = await bothConsuming(admin, pipeline, 60_000);
    const progressAt = async () =>
      messagesBetween(range.start, await storedOffsets(warehouse, pipeline));
    const readAlone = await progressAt();
    const startedAtMs = performance.now();
    const sampler = startSqlSampler(warehouse, SQL_SAMPLE_MS);
    const cpu = await processCpuMeter();
    const completed =
      stable &&
      (await waitUntilStored(warehouse, pipeline, range.end, deps.timeoutMs)
        .then(() => waitUntilSessionsApplied(warehouse, pipeline, deps.timeoutMs))
        .then(
          () => true,
          () => false,
        ));
    const elapsedMs = performance.now() - startedAtMs;
    const used = await cpu.stop();
    const lockWaits = lockWaitsOf(await sampler.stop());
    const messages = (completed ? total : await progressAt()) - readAlone;
    logger.info('scale-out measured', { consumers: 2, messages, readAlone, elapsedMs, completed });
    return {
      consumers: 2,
      messages,
      elapsedMs: Math.round(elapsedMs),
      eps: ratePerSec(messages, elapsedMs),
      completed,
      lockWaits,
      cpuPerChange: used && messages > 0 ? cpuPerChangeOf(used, messages, cpus().length) : null,
    };
  } finally {
    await stopProcess(second);
    await pipelines.stop(pipeline);
  }
}

/**
 * Deletes the range's changes from the raw changelog, where the throughput phase landed them,
 * and vacuums it: the second reading lands them as the first did, instead of finding each one
 * already there (the slower path of a pipeline started beside another). The range is the
 * bench's own writes, bounded by their commit times and Kafka positions.
 */
async function unland(
  warehouse: Knex,
  range: OffsetRange,
  committed: { fromMs: number; toMs: number },
): Promise<void> {
  const partitions = [...range.end].map(([key, end]) => ({
    ...parseMarkKey(key),
    from: (range.start.get(key) ?? 0n).toString(),
    until: end.toString(),
  }));
  await warehouse.raw(
    `DELETE FROM raw.change_events AS c
      USING unnest(?::text[], ?::int[], ?::bigint[], ?::bigint[]) AS r(topic, part, first, after)
      WHERE c.committed_at BETWEEN ? AND ? AND c.kafka_topic = r.topic
        AND c.kafka_partition = r.part AND c.kafka_offset >= r.first AND c.kafka_offset < r.after`,
    [
      partitions.map((partition) => partition.topic),
      partitions.map((partition) => partition.partition),
      partitions.map((partition) => partition.from),
      partitions.map((partition) => partition.until),
      new Date(committed.fromMs - 60_000),
      new Date(committed.toMs + 60_000),
    ],
  );
  await warehouse.raw('VACUUM raw.change_events');
}

function spawnPipelineProcess(pipeline: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', PIPELINE_PROCESS_SCRIPT, pipeline], {
    cwd: BENCH_DIR,
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves when the process prints that it joined; fails if it exits first. */
async function joinedLine(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('joined\n')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`the second pipeline process exited (code ${code}) before it joined`)),
    );
  });
}

/** Waits until the group is stable with two members that both hold partitions. */
async function bothConsuming(admin: Admin, group: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [described] = (await admin.describeGroups([group])).groups;
    const holding = (described?.members ?? []).filter((member) => {
      const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      return Object.values(decoded?.assignment ?? {}).some((partitions) => partitions.length > 0);
    });
    if (described?.state === 'Stable' && holding.length === 2) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}
