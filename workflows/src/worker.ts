import { NativeConnection, Worker } from '@temporalio/worker';
import type { Expectation } from '@tidemark/contracts';
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
  /** The stream pipeline reconciled against (the configured one by default). */
  pipeline?: string;
  /** The quality gate's expectations (the contracts' by default). */
  expectations?: readonly Expectation[];
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
        pipeline: options.pipeline ?? options.config.stream.pipeline,
        expectations: options.expectations,
      }),
    },
  });
  return { worker, connection };
}
