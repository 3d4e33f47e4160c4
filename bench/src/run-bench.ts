import { cpus } from 'node:os';
import { TidemarkError, type Logger } from '@tidemark/runtime';
import type { Admin, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { profileBatches } from './batch-profile';
import { endOffsets } from './kafka-offsets';
import { messagesBetween, rangeOffsets } from './offset-marks';
import { measureScaleOut } from './scale-out';
import type { BenchOptions } from './options';
import {
  trackLatency,
  trackThroughput,
  waitUntilSessionsApplied,
  waitUntilStored,
  type BatchTap,
} from './pipeline-run';
import { cpuPerChangeOf, processCpuMeter, type CpuPerChange } from './process-cpu';
import { measureRawConsumption, type RawConsumption } from './raw-consume';
import type { BenchMeasurements } from './report';
import type { ShopPipelines } from './shop-pipelines';
import { writeAndDeliver } from './source-load';
import { summarizeActivity } from './sql-profile';
import { startSqlSampler } from './sql-sampler';
import { distributionOf, medianBy, ratePerSec } from './stats';
import { walMeter, walPerChangeOf } from './wal-meter';

const SQL_SAMPLE_MS = 20;

export interface BenchDeps {
  options: BenchOptions;
  /** Prefix of this run's consumer groups and pipeline names. */
  runId: string;
  topics: readonly string[];
  kafka: Kafka;
  admin: Admin;
  warehouse: Knex;
  tap: BatchTap;
  pipelines: ShopPipelines;
  logger: Logger;
}

/**
 * The three measurements, one after another on the live stack: a prepared range read by raw
 * kafkajs (the ceiling) and by the pipeline (its sustained rate), then end-to-end latency under
 * a paced load.
 */
export async function runBench(deps: BenchDeps): Promise<BenchMeasurements> {
  const { options, logger } = deps;
  const { range, ...prepared } = await prepareRange(deps);
  const messages = messagesBetween(range.start, range.end);

  const passes: (RawConsumption & { cpuPerChange: CpuPerChange | null })[] = [];
  for (let pass = 1; pass <= options.rawPasses; pass += 1) {
    const cpu = await processCpuMeter();
    const consumed = await measureRawConsumption(deps.kafka, range, {
      groupId: `${deps.runId}-raw-${pass}`,
      timeoutMs: options.rawTimeoutMs,
    });
    const cpuUsed = await cpu.stop();
    logger.info('raw consumption measured', { pass, ...consumed, eps: Math.round(consumed.eps) });
    passes.push({
      ...consumed,
      cpuPerChange: cpuUsed ? cpuPerChangeOf(cpuUsed, consumed.messages, cpus().length) : null,
    });
  }
  const raw = medianBy(passes, (pass) => pass.eps);

  const throughputPipeline = `${deps.runId}-throughput`;
  const throughput = trackThroughput(deps.tap, range, logger, (timeoutMs) =>
    waitUntilSessionsApplied(deps.warehouse, throughputPipeline, timeoutMs),
  );
  await deps.pipelines.start(throughputPipeline, range.start, logger);
  const sampler = options.sqlProfile ? startSqlSampler(deps.warehouse, SQL_SAMPLE_MS) : undefined;
  const wal = await walMeter(deps.warehouse);
  const processCpu = await processCpuMeter();
  const pipelineRun = await throughput.begin(options.pipelineTimeoutMs);
  const cpuUsed = await processCpu.stop();
  const walWritten = await wal.stop();
  const sqlTicks = await sampler?.stop();
  if (pipelineRun.completed) {
    // The batches' counts said done; the stored offsets are the truth.
    await waitUntilStored(deps.warehouse, throughputPipeline, range.end, 30_000);
  } else {
    logger.warn('the pipeline did not finish the range in time: its rate is partial', {
      processed: pipelineRun.messages,
      messages,
      timeoutMs: options.pipelineTimeoutMs,
    });
  }
  await deps.pipelines.stop(throughputPipeline);
  logger.info('pipeline throughput measured', {
    messages: pipelineRun.messages,
    elapsedMs: Math.round(pipelineRun.elapsedMs),
    eps: Math.round(pipelineRun.eps),
  });

  const scaleOut = await measureScaleOut(
    {
      ...deps,
      logger,
      timeoutMs: options.pipelineTimeoutMs,
      committedBetween: { fromMs: prepared.startedAtMs, toMs: prepared.endedAtMs },
    },
    range,
  );

  const latency = await measureLatency(deps);
  return {
    messages,
    raw: { ...raw, passesEps: passes.map((pass) => Math.round(pass.eps)) },
    pipeline: {
      messages: pipelineRun.messages,
      elapsedMs: Math.round(pipelineRun.elapsedMs),
      eps: pipelineRun.eps,
      completed: pipelineRun.completed,
      joinedToDoneMs: pipelineRun.joinedToDoneMs,
      profile: profileBatches(
        pipelineRun.samples,
        pipelineRun.elapsedMs,
        pipelineRun.processCpuShare,
        pipelineRun.machineCpuBusy,
      ),
      sql: sqlTicks ? { sampleMs: SQL_SAMPLE_MS, ...summarizeActivity(sqlTicks) } : null,
      cpuPerChange: cpuUsed ? cpuPerChangeOf(cpuUsed, pipelineRun.messages, cpus().length) : null,
      walPerChange: walPerChangeOf(walWritten, pipelineRun.messages),
    },
    scaleOut,
    ...latency,
    range: prepared,
  };
}

/** Writes the range's operations about as fast as the writer goes and waits for Debezium. */
async function prepareRange(deps: BenchDeps) {
  const { options, logger } = deps;
  logger.info('writing the range', {
    operations: options.rangeOperations,
    ratePerSec: options.rangeRatePerSec,
  });
  const delivered = await writeAndDeliver(
    deps.admin,
    deps.topics,
    {
      ratePerSec: options.rangeRatePerSec,
      operations: options.rangeOperations,
      connections: options.loadConnections,
      seed: options.seed,
      customers: options.customers,
    },
    { quietMs: options.quietMs, timeoutMs: options.deliveryTimeoutMs },
    logger,
  );
  const { load } = delivered;
  logger.info('range delivered', {
    messages: messagesBetween(delivered.range.start, delivered.range.end),
    deliveredMs: delivered.deliveredMs,
  });
  return {
    range: delivered.range,
    operations: load.operations,
    achievedRatePerSec: load.achievedRatePerSec,
    changes: load.changes,
    deliveredMs: delivered.deliveredMs,
    changesPerSec: Math.round(ratePerSec(load.changes, delivered.deliveredMs)),
    startedAtMs: load.startedAtMs,
    endedAtMs: load.endedAtMs,
    ...rangeOffsets(delivered.range),
  };
}

/**
 * A fresh pipeline positioned at the topics' end (so caught up), a paced load, and for every
 * applied change the commit of the emission that made it visible in the provisional values minus
 * its source commit time, until the pipeline has stored the load's last offsets.
 */
async function measureLatency(
  deps: BenchDeps,
): Promise<
  Pick<
    BenchMeasurements,
    'load' | 'latencyMs' | 'commitLatencyMs' | 'latencyProfile' | 'latencySql'
  >
> {
  const { options, logger } = deps;
  const pipeline = `${deps.runId}-latency`;
  await deps.pipelines.start(pipeline, await endOffsets(deps.admin, deps.topics), logger);
  const latency = trackLatency(deps.tap);
  const sampler = options.sqlProfile ? startSqlSampler(deps.warehouse, SQL_SAMPLE_MS) : undefined;
  logger.info('latency load', {
    ratePerSec: options.loadRatePerSec,
    durationMs: options.loadDurationMs,
  });
  const { load, range } = await writeAndDeliver(
    deps.admin,
    deps.topics,
    {
      ratePerSec: options.loadRatePerSec,
      durationMs: options.loadDurationMs,
      connections: options.loadConnections,
      seed: options.seed + 1,
      customers: options.customers,
    },
    { quietMs: options.quietMs, timeoutMs: options.deliveryTimeoutMs },
    logger,
  );
  // A pipeline slower than the load never catches up: report what it applied, marked partial.
  const caughtUp = await waitUntilStored(
    deps.warehouse,
    pipeline,
    range.end,
    options.deliveryTimeoutMs,
  ).then(
    () => true,
    (error: unknown) => {
      if (!(error instanceof TidemarkError && error.code === 'TIMEOUT')) throw error;
      logger.warn('the pipeline did not catch up with the latency load in time', {
        timeoutMs: options.deliveryTimeoutMs,
      });
      return false;
    },
  );
  const { latenciesMs, commitLatenciesMs, samples, processCpuShare, machineCpuBusy } =
    latency.stop();
  const sqlTicks = await sampler?.stop();
  await deps.pipelines.stop(pipeline);
  const first = samples[0];
  const last = samples.at(-1);
  const wallMs = first && last ? last.seenAtMs - (first.seenAtMs - first.sinkMs) : 0;
  const latencyMs = distributionOf(latenciesMs);
  const commitLatencyMs = distributionOf(commitLatenciesMs);
  logger.info('latency measured', { ...latencyMs, toBatchCommit: commitLatencyMs });
  return {
    load: {
      targetRatePerSec: options.loadRatePerSec,
      achievedRatePerSec: load.achievedRatePerSec,
      operations: load.operations,
      changes: load.changes,
      durationMs: load.endedAtMs - load.startedAtMs,
      pipelineCaughtUp: caughtUp,
    },
    latencyMs,
    commitLatencyMs,
    latencyProfile: profileBatches(samples, wallMs, processCpuShare, machineCpuBusy),
    latencySql: sqlTicks ? { sampleMs: SQL_SAMPLE_MS, ...summarizeActivity(sqlTicks) } : null,
  };
}
