import type { Client } from '@temporalio/client';

const WORKFLOW_TASK_QUEUE = 1; // temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW

/** Whether a worker has polled the task queue for workflow tasks lately. */
export async function hasWorker(client: Client, taskQueue: string): Promise<boolean> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: WORKFLOW_TASK_QUEUE,
  });
  return (response.pollers?.length ?? 0) > 0;
}

export function noWorkerHint(taskQueue: string): string {
  return `no worker polls task queue "${taskQueue}": start one with \`tidemark worker\` (another terminal)`;
}
