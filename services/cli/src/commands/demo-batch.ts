import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { EXPECTATIONS, type Expectation } from '@tidemark/contracts';
import type { Config } from '@tidemark/runtime';
import { consolidateDayWorkflow, createTidemarkWorker } from '@tidemark/workflows';
import type { Knex } from 'knex';
import { auditCommand } from './audit';
import { qualityCommand } from './quality';

/** A stricter rule a reviewer might propose: the demo's traffic breaks it, so the gate blocks. */
export const STRICTER_EXPECTATION = {
  kind: 'range',
  table: 'shop.orders',
  field: 'amount_minor',
  max: 10_000,
  severity: 'ERROR',
} satisfies Expectation;

export interface DemoBatchOptions {
  config: Config;
  client: Client;
  /** The demo's reads (reports). */
  warehouse: Knex;
  /** The worker's role, for the demo's second worker. */
  workerWarehouse: Knex;
  sourceReader: Knex;
  /** The demo's worker, with the default expectations, reconciling against `pipeline`. */
  taskQueue: string;
  pipeline: string;
  print: (line: string) => void;
}

/**
 * The batch half of the demo: consolidates the demo day on Temporal (completeness, final values
 * from the raw changelog, reconciliation, quality gate, publication), prints the gate and the
 * audit, then shows a failing ERROR expectation blocking a second publication.
 */
export async function runDemoBatch(options: DemoBatchOptions): Promise<void> {
  const { client, warehouse, print } = options;
  const day = new Date().toISOString().slice(0, 10);
  const asOf = new Date().toISOString();
  print(
    `batch:      consolidateDayWorkflow for ${day} as of ${asOf}: waits for the stream's watermark, computes final values from raw.change_events, reconciles, gates, publishes`,
  );
  const result = await client.workflow.execute(consolidateDayWorkflow, {
    taskQueue: options.taskQueue,
    workflowId: `demo-consolidate-${day}-${process.pid}-${Date.now()}`,
    args: [
      {
        day,
        asOf,
        reason: 'demo consolidation',
        completenessTimeoutMs: 90_000,
        completenessPollMs: 1_000,
      },
    ],
    workflowExecutionTimeout: '5 minutes',
  });
  print(
    `batch:      run ${result.runId}: ${result.published} final values published (${result.changed} changed); ${result.reconciliation.unobserved} windows from before the demo's pipeline started are left out of the audit`,
  );
  print('');
  await qualityCommand(['--date', day], { warehouse, print });
  print('');
  await auditCommand(['--date', day], { warehouse, print });
  print('');

  print(
    `gate:       a stricter expectation, amount_minor <= ${STRICTER_EXPECTATION.max} (ERROR), on a second run of ${day}:`,
  );
  const strictQueue = `${options.taskQueue}-strict`;
  const { worker, connection } = await createTidemarkWorker({
    config: options.config,
    warehouse: options.workerWarehouse,
    source: options.sourceReader,
    taskQueue: strictQueue,
    pipeline: options.pipeline,
    expectations: [...EXPECTATIONS, STRICTER_EXPECTATION],
  });
  const running = worker.run();
  try {
    await client.workflow.execute(consolidateDayWorkflow, {
      taskQueue: strictQueue,
      workflowId: `demo-consolidate-strict-${day}-${process.pid}-${Date.now()}`,
      args: [{ day, asOf, reason: 'demo: stricter gate', completenessTimeoutMs: 90_000 }],
      workflowExecutionTimeout: '5 minutes',
    });
    print('gate:       the stricter run published (the demo traffic had no large order)');
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    if (!(cause instanceof ApplicationFailure) || cause.type !== 'QUALITY_GATE_FAILED') throw error;
    const [published] = (await warehouse('final.metric_values')
      .where({ run_id: result.runId })
      .count({ values: '*' })) as { values: string }[];
    print(`gate:       ${cause.type}: ${cause.message}`);
    print(
      `gate:       publication blocked; the ${published?.values ?? 0} values of run ${result.runId} stay published (tidemark quality --date ${day} shows the gate)`,
    );
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}
