import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type NativeConnection } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import {
  createConsolidationActivities,
  type ConsolidationDependencies,
} from '../activities/consolidation';

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * For tests: a worker running every tidemark workflow with the consolidation activities on its
 * own task queue, until the returned function shuts it down.
 */
export async function runConsolidationWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dependencies: ConsolidationDependencies;
}): Promise<() => Promise<void>> {
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createConsolidationActivities(options.dependencies),
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
  };
}

/**
 * For tests: the Temporal server the stack runs (the dev server binary), as a test environment,
 * with the SDK's own logging quiet but for warnings. Once per test file (one runtime per process).
 */
export async function connectTestEnvironment(temporal: {
  address: string;
  namespace: string;
}): Promise<TestWorkflowEnvironment> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  return TestWorkflowEnvironment.createFromExistingServer({
    address: temporal.address,
    namespace: temporal.namespace,
  });
}
