import { WorkflowFailedError } from '@temporalio/client';
import type { Expectation } from '@tidemark/contracts';
import { runLoad, type LoadReport } from '@tidemark/loadgen';
import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import type { StreamPipeline } from '@tidemark/stream';
import { NativeConnection } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  endOffsets,
  startTestPipeline,
  waitTopicSettled,
  type TestPipeline,
} from '../../../test/integration/pipeline';
import { runConsolidationWorker } from '../testing/consolidation-worker';
import { createTemporalClient } from '../client';
import { consolidateDayWorkflow } from './consolidate-day';

// The nightly consolidation on the real Temporal dev server, over what the real stream landed:
// final values equal the source table, every provisional-vs-final difference of this run's keys
// has a cause, and a failing ERROR expectation blocks the publication.

const config = loadConfig();
const source = createDatabase(config.source, 4);
// Event time truncated to milliseconds by PostgreSQL, as the stream and the final SQL see it.
const MS_CREATED_AT = source.raw("date_trunc('milliseconds', created_at) AS created_at");
const sourceReader = createDatabase(config.sourceReader, 2);
const warehouse = createDatabase(config.warehouse, 4);
const prefix = config.kafka.topicPrefix;
const pipeline = `consolidate-int-${randomUUID()}`;
const kafka = createKafka(config, pipeline, silentLogger);
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );
const currency = letters();
const MINUTE = 60_000;
const workers: { shutdown: () => Promise<void> }[] = [];
let testPipeline: TestPipeline;
let stream: StreamPipeline;
let report: LoadReport;
let asOf: string;

// Expectations that hold for this run whatever else the shared stack holds (the source tables
// may carry rows no pipeline ever read, which the row-count expectation rightly refuses).
const HOLDING: Expectation[] = [
  { kind: 'not_null', table: 'shop.orders', fields: ['id', 'currency'], severity: 'ERROR' },
  { kind: 'range', table: 'shop.orders', field: 'amount_minor', min: 0, severity: 'ERROR' },
  { kind: 'reconciliation_drift', maxUnexplained: 0, severity: 'WARN' },
];
const FAILING: Expectation[] = [
  ...HOLDING,
  { kind: 'range', table: 'shop.orders', field: 'amount_minor', max: 1, severity: 'ERROR' },
];

async function startWorker(taskQueue: string, expectations: Expectation[]) {
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const stop = await runConsolidationWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    dependencies: { warehouse, source: sourceReader, pipeline, expectations },
  });
  workers.push({
    shutdown: async () => {
      await stop();
      await connection.close();
    },
  });
}

beforeAll(async () => {
  testPipeline = await startTestPipeline({ config, warehouse, name: pipeline });
  stream = testPipeline.stream;
  await source('shop.orders').insert({
    customer_id: `${pipeline}-warmup`,
    amount_minor: 100,
    currency,
    status: 'paid',
  });
  await waitFor(
    'the orders watermark',
    async () => (stream.watermarks().get('orders_per_minute') ?? null) !== null || undefined,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const before = new Map<string, Map<number, bigint>>();
  for (const topic of [`${prefix}.shop.orders`, `${prefix}.shop.payments`]) {
    before.set(topic, await endOffsets(kafka, topic));
  }
  report = await runLoad(source, {
    ratePerSec: 400,
    durationMs: 4_000,
    seed: 777,
    currencies: [currency],
    customerPrefix: pipeline,
    customers: 20,
    updates: 0.15,
    deletes: 0.03,
    pkChanges: 0.01,
    payments: 0.1,
    poison: 0,
    late: 0.05,
    lateByMs: 20 * MINUTE,
  });
  // Every change of the load in Kafka (both topics quiet), then read by the pipeline.
  for (const topic of [`${prefix}.shop.orders`, `${prefix}.shop.payments`]) {
    const ends = await waitTopicSettled(kafka, topic, before.get(topic)!, 0);
    await waitFor(
      `the pipeline to read ${topic} to its end`,
      async () => {
        const stored = await warehouse('ops.consumer_offsets').where({ group_id: pipeline, topic });
        return (
          [...ends].every(([partition, end]) => {
            if (end <= (before.get(topic)?.get(partition) ?? 0n)) return true;
            const row = stored.find((candidate) => candidate.partition === partition);
            return row !== undefined && BigInt(row.next_offset) >= end;
          }) || undefined
        );
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }
  asOf = new Date().toISOString();
});

afterAll(async () => {
  for (const worker of workers) await worker.shutdown();
  await testPipeline?.stopAndReset();
  await Promise.all([source.destroy(), sourceReader.destroy(), warehouse.destroy()]);
});

describe('consolidateDayWorkflow on the Temporal dev server', () => {
  it('publishes final values equal to the source table and explains every difference', async () => {
    const taskQueue = `consolidate-int-${randomUUID()}`;
    // The day of the load's end, once: a test running across midnight checks the day it ran.
    const day = asOf.slice(0, 10);
    await startWorker(taskQueue, HOLDING);
    const client = await createTemporalClient(config);
    try {
      const result = await client.workflow.execute(consolidateDayWorkflow, {
        taskQueue,
        workflowId: `consolidate-int-${randomUUID()}`,
        args: [{ day, asOf, completenessPollMs: 1_000, completenessTimeoutMs: 90_000 }],
        workflowExecutionTimeout: '5 minutes',
      });
      expect(result.published).toBeGreaterThan(0);
      expect(result.quality.errors).toEqual([]);

      // Final orders per minute of this run's currency equal the source table, late rows included.
      const rows = (await source('shop.orders')
        .where({ currency })
        .whereNot('status', 'cancelled')
        .where('created_at', '<=', asOf)
        .select(MS_CREATED_AT)) as { created_at: Date }[];
      const expected = new Map<number, number>();
      for (const row of rows) {
        const start = Math.floor(row.created_at.getTime() / MINUTE) * MINUTE;
        if (new Date(start).toISOString().slice(0, 10) !== day) continue;
        expected.set(start, (expected.get(start) ?? 0) + 1);
      }
      const published = await warehouse('final.metric_values')
        .where({ metric: 'orders_per_minute' })
        .whereRaw('key_values = ?::jsonb', [JSON.stringify([currency])])
        .select('window_start', 'value', 'run_id');
      expect(
        new Map(published.map((row) => [new Date(row.window_start).getTime(), Number(row.value)])),
      ).toEqual(expected);
      expect(new Set(published.map((row) => row.run_id))).toEqual(new Set([result.runId]));

      // This run's keys: every difference has a cause, and the late rows show up as such.
      const audit = await warehouse('audit.reconciliation')
        .where({ run_id: result.runId })
        .whereRaw('key_values = ?::jsonb', [JSON.stringify([currency])])
        .select('cause');
      const causes = audit.map((row) => row.cause);
      expect(causes).not.toContain('unexplained');
      // Late rows are dated 20 minutes back: just after midnight, they belong to the day before.
      const lateOrders = (await source('shop.orders')
        .whereIn('id', report.ids.late)
        .select('created_at')) as { created_at: Date }[];
      const lateInDay = lateOrders.filter(
        (order) => order.created_at.toISOString().slice(0, 10) === day,
      );
      if (lateInDay.length > 0) expect(causes).toContain('late_beyond_lateness');
      expect(causes).toContain('exact');
    } finally {
      await client.connection.close();
    }
  });

  it('blocks the publication when an ERROR expectation fails, leaving final values untouched', async () => {
    const before = await warehouse('final.metric_values')
      .where({ metric: 'orders_per_minute' })
      .whereRaw('key_values = ?::jsonb', [JSON.stringify([currency])])
      .orderBy('window_start')
      .select('window_start', 'value', 'run_id');
    const taskQueue = `consolidate-int-${randomUUID()}`;
    await startWorker(taskQueue, FAILING);
    const client = await createTemporalClient(config);
    const workflowId = `consolidate-int-blocked-${randomUUID()}`;
    try {
      const error = await client.workflow
        .execute(consolidateDayWorkflow, {
          taskQueue,
          workflowId,
          args: [
            {
              day: asOf.slice(0, 10),
              asOf,
              completenessPollMs: 1_000,
              completenessTimeoutMs: 90_000,
            },
          ],
          workflowExecutionTimeout: '5 minutes',
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as { type?: string; message?: string };
      expect(cause.type).toBe('QUALITY_GATE_FAILED');
      expect(cause.message).toContain('range:shop.orders.amount_minor:..1');
    } finally {
      await client.connection.close();
    }
    const after = await warehouse('final.metric_values')
      .where({ metric: 'orders_per_minute' })
      .whereRaw('key_values = ?::jsonb', [JSON.stringify([currency])])
      .orderBy('window_start')
      .select('window_start', 'value', 'run_id');
    expect(after).toEqual(before);
    const run = await warehouse('final.runs').where({ workflow_id: workflowId }).first('status');
    expect(run?.status).toBe('blocked');
    const failed = await warehouse('quality.results')
      .join('final.runs', 'final.runs.run_id', 'quality.results.run_id')
      .where({ 'final.runs.workflow_id': workflowId, passed: false })
      .select('expectation', 'severity');
    expect(failed).toContainEqual({
      expectation: 'range:shop.orders.amount_minor:..1',
      severity: 'ERROR',
    });
  });

  it('fails a day the stream has not completed, and marks its run incomplete', async () => {
    const taskQueue = `consolidate-int-${randomUUID()}`;
    await startWorker(taskQueue, HOLDING);
    const client = await createTemporalClient(config);
    const workflowId = `consolidate-int-incomplete-${randomUUID()}`;
    // Tomorrow: the pipeline's watermark cannot have passed its end.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    try {
      const error = await client.workflow
        .execute(consolidateDayWorkflow, {
          taskQueue,
          workflowId,
          args: [{ day: tomorrow, completenessTimeoutMs: 0 }],
          workflowExecutionTimeout: '2 minutes',
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as { type?: string; message?: string };
      expect(cause.type).toBe('DAY_INCOMPLETE');
      expect(cause.message).toContain(`day ${tomorrow} is not complete`);
      // It names the pipeline judged, and where each metric behind stands.
      expect(cause.message).toContain(`stream pipeline ${pipeline}'s watermarks have not passed`);
      expect(cause.message).toMatch(/orders_per_minute is at \S+ \(\d+ min short\)/);
      const run = await warehouse('final.runs')
        .where({ workflow_id: workflowId })
        .first('status', 'finished_at', 'pipeline');
      expect(run?.status).toBe('incomplete');
      expect(run?.pipeline).toBe(pipeline);
      expect(run?.finished_at).not.toBeNull();
    } finally {
      await client.connection.close();
      await warehouse('final.runs').where({ workflow_id: workflowId }).delete();
    }
  });

  it('judges a day by the pipeline the run names, not the worker’s', async () => {
    const taskQueue = `consolidate-int-${randomUUID()}`;
    await startWorker(taskQueue, HOLDING);
    const client = await createTemporalClient(config);
    const workflowId = `consolidate-int-other-pipeline-${randomUUID()}`;
    const other = `never-ran-${randomUUID()}`;
    try {
      const error = await client.workflow
        .execute(consolidateDayWorkflow, {
          taskQueue,
          workflowId,
          args: [{ day: '2026-11-01', pipeline: other, completenessTimeoutMs: 0 }],
          workflowExecutionTimeout: '2 minutes',
        })
        .catch((caught: unknown) => caught);
      const cause = (error as WorkflowFailedError).cause as { type?: string; message?: string };
      expect(cause.type).toBe('DAY_INCOMPLETE');
      expect(cause.message).toContain(`stream pipeline ${other}'s watermarks have not passed`);
      expect(cause.message).toContain('orders_per_minute has no watermark (has the pipeline run?)');
      const run = await warehouse('final.runs')
        .where({ workflow_id: workflowId })
        .first('pipeline');
      expect(run?.pipeline).toBe(other);
    } finally {
      await client.connection.close();
      await warehouse('final.runs').where({ workflow_id: workflowId }).delete();
    }
  });
});
