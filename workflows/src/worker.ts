import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { fileURLToPath } from 'node:url';
import { createActivities } from './activities/landed-changes';

const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** The tidemark worker on its task queue; run() it, shutdown() to stop it. */
export async function createTidemarkWorker(options: {
  config: Config;
  warehouse: Knex;
  taskQueue?: string;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: options.config.temporal.namespace,
    taskQueue: options.taskQueue ?? options.config.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ warehouse: options.warehouse }),
  });
  return { worker, connection };
}
