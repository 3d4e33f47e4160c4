import { migrateAll, REPO_ROOT, registerShopConnector, shopStreamTopology } from '@tidemark/cli';
import { createDatabase, createKafka, createLogger, loadConfig } from '@tidemark/runtime';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BENCH_USAGE, parseBenchArgs } from './options';
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

  logger.info('migrating and registering the Debezium connector', { runId });
  await migrateAll(config);
  await registerShopConnector(config, logger);
  const topics = [...(await shopStreamTopology(config)).changeTopics.values()];

  const kafka = createKafka(config, runId, logger);
  const admin = kafka.admin();
  await admin.connect();
  const warehouse = createDatabase(config.warehouse);
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
    const out = path.resolve(REPO_ROOT, options.out);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `\n${renderResult(result)}\n\nresults: ${path.relative(REPO_ROOT, out)}\n`,
    );
  } finally {
    await pipelines.stopAll(logger);
    await admin.disconnect();
    await warehouse.destroy();
  }
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
