import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { fileURLToPath } from 'node:url';
import { createConsolidationActivities } from './activities/consolidation';
import { createActivities } from './activities/landed-changes';

const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** The tidemark worker on its task queue; run() it, shutdown() to stop it. */
export async function createTidemarkWorker(options: {
  config: Config;
  warehouse: Knex;
  /** The source database (read-only use: row counts for the quality gate). */
  source: Knex;
  taskQueue?: string;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: options.config.temporal.namespace,
    taskQueue: options.taskQueue ?? options.config.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: {
      ...createActivities({ warehouse: options.warehouse }),
      ...createConsolidationActivities({
        warehouse: options.warehouse,
        source: options.source,
        pipeline: options.config.stream.pipeline,
      }),
    },
  });
  return { worker, connection };
}
