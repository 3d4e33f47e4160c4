import { migrateAll, REPO_ROOT, registerShopConnector, shopStreamTopology } from '@tidemark/cli';
import {
  createDatabase,
  createKafka,
  createLogger,
  loadConfig,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import type { Knex } from 'knex';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runBatchBench } from './batch-bench';
import { buildBatchResult, renderBatchResult } from './batch-report';
import { BENCH_USAGE, parseBenchArgs, type BenchOptions } from './options';
import { BatchTap } from './pipeline-run';
import { buildResult, renderResult, type MachineInfo } from './report';
import { runBench } from './run-bench';
import { ShopPipelines } from './shop-pipelines';

/** Composition root of `npm run bench`: wires the live stack into the measurements. */
async function main(argv: readonly string[]): Promise<void> {
  const options = parseBenchArgs(argv);
  if (options === 'help') {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, fields: { component: 'bench' } });
  const runId = `bench-${Date.now()}`;

  logger.info('migrating', { runId });
  await migrateAll(config);
  const warehouse = createDatabase(config.warehouse);
  try {
    if (options.only !== 'batch') await benchStream(options, config, warehouse, runId, logger);
    if (options.only !== 'stream') await benchBatch(options, config, warehouse, logger);
  } finally {
    await warehouse.destroy();
  }
}

/** The streaming layer against raw kafkajs, and its latency: bench/results/stream.json. */
async function benchStream(
  options: BenchOptions,
  config: Config,
  warehouse: Knex,
  runId: string,
  logger: Logger,
): Promise<void> {
  logger.info('registering the Debezium connector', { runId });
  await registerShopConnector(config, logger);
  const topics = [...(await shopStreamTopology(config)).changeTopics.values()];

  const kafka = createKafka(config, runId, logger);
  const admin = kafka.admin();
  await admin.connect();
  const tap = new BatchTap();
  const pipelines = new ShopPipelines(config, warehouse, admin, tap);
  try {
    const measured = await runBench({
      options,
      runId,
      topics,
      kafka,
      admin,
      warehouse,
      tap,
      pipelines,
      logger,
    });
    const result = buildResult(measured, machineInfo(), { ...options }, new Date());
    const out = await writeResult(options.out, result);
    process.stdout.write(`\n${renderResult(result)}\n\nresults: ${out}\n`);
  } finally {
    await pipelines.stopAll(logger);
    await admin.disconnect();
  }
}

/** A day's consolidation against plain SQL, and a backfill: bench/results/batch.json. */
async function benchBatch(
  options: BenchOptions,
  config: Config,
  warehouse: Knex,
  logger: Logger,
): Promise<void> {
  const source = createDatabase(config.sourceReader, 2);
  try {
    const measured = await runBatchBench({
      config,
      warehouse,
      source,
      topicPrefix: config.kafka.topicPrefix,
      options: {
        day: options.batchDay,
        changes: options.batchChanges,
        customers: options.customers,
        passes: options.batchPasses,
        backfillFrom: options.backfill ? options.backfillFrom : undefined,
        backfillDays: options.backfillDays,
        backfillChangesPerDay: options.backfillChangesPerDay,
      },
      logger,
    });
    const result = buildBatchResult(measured, machineInfo(), { ...options }, new Date());
    const out = await writeResult(options.batchOut, result);
    process.stdout.write(`\n${renderBatchResult(result)}\n\nresults: ${out}\n`);
  } finally {
    await source.destroy();
  }
}

/** Writes a results file (relative to the repository root unless absolute); its shown path. */
async function writeResult(file: string, result: unknown): Promise<string> {
  const out = path.resolve(REPO_ROOT, file);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  return path.relative(REPO_ROOT, out);
}

function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: os.platform(),
    release: os.release(),
  };
}

main(process.argv.slice(2)).then(
  // Lingering sockets of the Kafka and database clients must not keep a finished bench alive.
  () => process.exit(0),
  (error: unknown) => {
    const fields =
      error instanceof Error
        ? { error: error.message, code: (error as { code?: unknown }).code, stack: error.stack }
        : { error: String(error) };
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: 'bench failed', ...fields })}\n`,
    );
    process.exit(1);
  },
);
