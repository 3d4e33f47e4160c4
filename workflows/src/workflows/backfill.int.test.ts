import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Expectation } from '@tidemark/contracts';
import { createDatabase, loadConfig, waitFor } from '@tidemark/runtime';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killHard } from '../../../test/integration/process';
import { chooseStack, killAndRestart } from '../../../test/integration/stack';
import { startTestPipeline, type TestPipeline } from '../../../test/integration/pipeline';
import { connectTestEnvironment, runConsolidationWorker } from '../testing/consolidation-worker';
import {
  backfillProgressQuery,
  backfillWorkflow,
  cancelBackfillSignal,
  pauseBackfillSignal,
  resumeBackfillSignal,
} from './backfill';
import type { BackfillReport } from './backfill-plan';

// Backfills on the real Temporal dev server (@temporalio/testing on the running server) over 30
// days of orders and payments written to the source database with past event times, captured
// by Debezium and landed by a real stream pipeline. Final values must equal the metrics computed
// straight from the source rows, a re-run after source changes records exactly the changed
// values, and a backfill whose worker process is killed with SIGKILL midway, then restarted,
// ends with the same values, as does one whose Temporal server is killed with SIGKILL.

const config = loadConfig();
const source = createDatabase(config.source, 4);
const sourceReader = createDatabase(config.sourceReader, 2);
const warehouse = createDatabase(config.warehouse, 6);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MINUTE = 60_000;
const DAY_MS = 24 * 60 * MINUTE;
const DAYS = 30;
// A month of a random past year nothing else writes to (within the stream's plausible span).
const year = 2001 + Math.floor(Math.random() * 15);
const from = `${year}-03-01`;
const to = `${year}-03-${String(DAYS).padStart(2, '0')}`;
const rangeStart = Date.parse(`${from}T00:00:00Z`);
const rangeEnd = rangeStart + DAYS * DAY_MS;
const runTag = randomUUID().slice(0, 8);
const currency = Array.from({ length: 3 }, () =>
  String.fromCharCode(65 + Math.floor(Math.random() * 26)),
).join('');

// Expectations that hold whatever else the shared stack holds.
const HOLDING: Expectation[] = [
  { kind: 'not_null', table: 'shop.orders', fields: ['id', 'currency'], severity: 'ERROR' },
  { kind: 'range', table: 'shop.orders', field: 'amount_minor', min: 0, severity: 'ERROR' },
  { kind: 'reconciliation_drift', maxUnexplained: 1_000_000, severity: 'WARN' },
];

let env: TestWorkflowEnvironment;
let pipeline: TestPipeline;
const children = new Set<ChildProcess>();
const inProcessWorkers: (() => Promise<void>)[] = [];

async function startInProcessWorker(taskQueue: string): Promise<void> {
  inProcessWorkers.push(
    await runConsolidationWorker({
      connection: env.nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue,
      dependencies: {
        warehouse,
        source: sourceReader,
        pipeline: pipeline.name,
        expectations: HOLDING,
      },
    }),
  );
}

/** `tidemark worker` as its own process, as operators run it. */
function startWorkerProcess(taskQueue: string): ChildProcess {
  const child = spawn(process.execPath, [`${REPO_ROOT}services/cli/bin/tidemark.js`, 'worker'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TIDEMARK_STREAM_PIPELINE: pipeline.name,
      TIDEMARK_TEMPORAL_TASK_QUEUE: taskQueue,
      // Any free port: a worker of an earlier test may still hold the default one.
      TIDEMARK_WORKER_METRICS_PORT: '0',
      TIDEMARK_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const orderIds: string[] = [];
const paymentIds: string[] = [];

/** Orders and payments for every day of the range, some updated, cancelled or deleted later. */
async function writeSourceRows(): Promise<void> {
  for (let day = 0; day < DAYS; day += 1) {
    const dayStart = rangeStart + day * DAY_MS;
    const orders = [0, 1, 2, 3].map((n) => ({
      customer_id: `backfill-${runTag}-${(day + n) % 5}`,
      amount_minor: 1_000 + day * 10 + n,
      currency,
      status: n === 3 && day % 4 === 0 ? 'cancelled' : 'paid',
      // Minutes apart, some in the same minute, one near midnight (a session across days).
      created_at: new Date(dayStart + [61, 62.5, 400 + day, 1_438][n]! * MINUTE),
    }));
    const inserted = (await source('shop.orders')
      .insert(orders)
      .returning(['id', 'created_at'])) as {
      id: string;
      created_at: Date;
    }[];
    orderIds.push(...inserted.map((order) => order.id));
    const payments = await source('shop.payments').insert(
      inserted.slice(0, 2).map((order, n) => ({
        order_id: order.id,
        amount_minor: 1_000,
        currency,
        method: 'card',
        status: (day + n) % 3 === 0 ? 'failed' : 'captured',
        created_at: new Date(order.created_at.getTime() + 30_000),
      })),
      ['id'],
    );
    paymentIds.push(...payments.map((payment: { id: string }) => payment.id));
  }
}

/** Every metric's values for the range, computed in TypeScript straight from the source rows. */
async function expectedFromSource(): Promise<Map<string, number>> {
  const inRange = (query: ReturnType<typeof source>) =>
    query
      .where('created_at', '>=', new Date(rangeStart - DAY_MS))
      .where('created_at', '<', new Date(rangeEnd + DAY_MS))
      .select('*', source.raw("date_trunc('milliseconds', created_at) AS created_at"));
  const orders = (await inRange(source('shop.orders'))) as {
    customer_id: string;
    amount_minor: string;
    currency: string;
    status: string;
    created_at: Date;
  }[];
  const payments = (await inRange(source('shop.payments'))) as {
    method: string;
    status: string;
    created_at: Date;
  }[];
  const values = new Map<string, number[]>();
  const add = (metric: string, start: number, key: string, value: number) => {
    if (start < rangeStart || start >= rangeEnd) return;
    const id = `${metric}|${start}|${JSON.stringify([key])}`;
    values.set(id, [...(values.get(id) ?? []), value]);
  };
  for (const order of orders) {
    const minute = Math.floor(order.created_at.getTime() / MINUTE) * MINUTE;
    if (order.status !== 'cancelled') add('orders_per_minute', minute, order.currency, 1);
    if (!['cancelled', 'refunded'].includes(order.status)) {
      add('revenue_per_minute', minute, order.currency, Number(order.amount_minor));
    }
  }
  for (const payment of payments) {
    const minute = Math.floor(payment.created_at.getTime() / MINUTE) * MINUTE;
    for (let back = 0; back < 5; back += 1) {
      add(
        'payment_failure_rate',
        minute - back * MINUTE,
        payment.method,
        Number(payment.status === 'failed'),
      );
    }
  }
  const byCustomer = new Map<string, number[]>();
  for (const order of orders) {
    byCustomer.set(order.customer_id, [
      ...(byCustomer.get(order.customer_id) ?? []),
      order.created_at.getTime(),
    ]);
  }
  for (const [customer, times] of byCustomer) {
    times.sort((a, b) => a - b);
    let sessionStart = times[0]!;
    let count = 0;
    times.forEach((time, index) => {
      if (index > 0 && time - times[index - 1]! >= 30 * MINUTE) {
        add('customer_sessions', sessionStart, customer, count);
        sessionStart = time;
        count = 0;
      }
      count += 1;
    });
    add('customer_sessions', sessionStart, customer, count);
  }
  const aggregate = (metric: string, list: number[]) =>
    metric === 'payment_failure_rate'
      ? list.reduce((sum, value) => sum + value, 0) / list.length
      : list.reduce((sum, value) => sum + value, 0);
  return new Map([...values].map(([id, list]) => [id, round(aggregate(id.split('|')[0]!, list))]));
}

/** The published final values of the range, keyed like `expectedFromSource`. */
async function publishedValues(): Promise<Map<string, number>> {
  const rows = await warehouse('final.metric_values')
    .where('window_start', '>=', new Date(rangeStart))
    .where('window_start', '<', new Date(rangeEnd))
    .select('metric', 'window_start', 'key_values', 'value');
  return new Map(rows.map((row) => [valueKey(row), round(Number(row.value))]));
}

const round = (value: number) => Math.round(value * 1e9) / 1e9;

/** A final value's key, as `expectedFromSource` and `publishedValues` spell it. */
const valueKey = (row: { metric: string; window_start: Date | string; key_values: unknown }) =>
  `${row.metric}|${new Date(row.window_start).getTime()}|${JSON.stringify(row.key_values)}`;

/** The value changes a backfill recorded (its trail), each with both sides and the reason. */
async function trailOf(backfillId: string) {
  return warehouse('final.value_changes as change')
    .join('final.runs as run', 'run.run_id', 'change.run_id')
    .where('run.backfill_id', backfillId)
    .select(
      'change.metric',
      'change.window_start',
      'change.key_values',
      'change.previous_value',
      'change.new_value',
      'change.reason',
    );
}

async function progress(id: string): Promise<BackfillReport> {
  return env.client.workflow.getHandle(id).query(backfillProgressQuery);
}

beforeAll(async () => {
  env = await connectTestEnvironment(config.temporal);
  pipeline = await startTestPipeline({ config, warehouse, name: `backfill-int-${runTag}` });
  await writeSourceRows();
  await pipeline.waitLanded('shop.orders', orderIds, orderIds.length);
  await pipeline.waitLanded('shop.payments', paymentIds, paymentIds.length);
});

afterAll(async () => {
  await Promise.all([...children].map(killHard));
  for (const shutdown of inProcessWorkers) await shutdown();
  await pipeline?.stopAndReset();
  await env?.teardown();
  await Promise.all([source.destroy(), sourceReader.destroy(), warehouse.destroy()]);
});

describe('backfillWorkflow on the Temporal dev server', () => {
  it('publishes 30 days equal to the source, pauses and resumes, and continues as new', async () => {
    const taskQueue = `backfill-int-${randomUUID()}`;
    await startInProcessWorker(taskQueue);
    const id = `backfill-int-a-${runTag}`;
    const handle = await env.client.workflow.start(backfillWorkflow, {
      taskQueue,
      workflowId: id,
      args: [{ from, to, concurrency: 3, daysPerRun: 7, reason: 'integration test' }],
      workflowExecutionTimeout: '10 minutes',
    });
    await handle.signal(pauseBackfillSignal);
    // The days' state is rebuilt once, before the first day starts.
    const snapshot = await waitFor(
      'the state snapshot',
      async () => (await warehouse('final.state_snapshots').where({ backfill_id: id }))[0],
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(Number(snapshot.rows)).toBeGreaterThan(0);
    const paused = await progress(id);
    expect(paused.status).toBe('paused');
    // Paused: the days already started finish, no new one starts.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stillPaused = await progress(id);
    expect(stillPaused.started).toBe(paused.started);
    expect(stillPaused.started).toBeLessThanOrEqual(3);
    await handle.signal(resumeBackfillSignal);

    const report = await handle.result();
    expect(report).toMatchObject({ status: 'completed', total: DAYS, succeeded: DAYS, failed: [] });
    expect(report.generation).toBeGreaterThanOrEqual(4);
    expect(await publishedValues()).toEqual(await expectedFromSource());
    const runs = await warehouse('final.runs')
      .where({ backfill_id: id })
      .select('status', 'snapshot_id');
    expect(runs).toHaveLength(DAYS);
    expect(new Set(runs.map((run) => run.status))).toEqual(new Set(['published']));
    // Every day read the snapshot (the values above are equal to the source through it), and
    // the snapshot is gone with its backfill.
    expect(new Set(runs.map((run) => String(run.snapshot_id)))).toEqual(
      new Set([String(snapshot.snapshot_id)]),
    );
    expect(await warehouse('final.state_snapshots').where({ backfill_id: id })).toEqual([]);
    const partition = await warehouse.raw('SELECT to_regclass(?) AS relation', [
      `final.state_snapshot_${snapshot.snapshot_id}`,
    ]);
    expect(partition.rows[0].relation).toBeNull();
  }, 300_000);

  it('records every changed value when re-run, and ends identically after its worker is killed', async () => {
    const before = await publishedValues();
    // Corrections in the source: an amount changed on day 5, an order deleted on day 7.
    const changed = await source('shop.orders')
      .where({ currency })
      .where('created_at', '>=', new Date(rangeStart + 4 * DAY_MS))
      .where('created_at', '<', new Date(rangeStart + 5 * DAY_MS))
      .where({ status: 'paid' })
      .orderBy('created_at')
      .first('id');
    await source('shop.orders').where({ id: changed.id }).update({ amount_minor: 99_999 });
    const deleted = await source('shop.orders')
      .where({ currency })
      .where('created_at', '>=', new Date(rangeStart + 6 * DAY_MS))
      .where('created_at', '<', new Date(rangeStart + 7 * DAY_MS))
      .orderBy('created_at', 'desc')
      .first('id');
    const cascaded = await source('shop.payments')
      .where({ order_id: deleted.id })
      .count({ n: '*' });
    await source('shop.orders').where({ id: deleted.id }).delete();
    // Each changed order now has one more change; its payments, deleted by cascade, too.
    await pipeline.waitLanded('shop.orders', orderIds, orderIds.length + 2);
    await pipeline.waitLanded(
      'shop.payments',
      paymentIds,
      paymentIds.length + Number(cascaded[0]?.n ?? 0),
    );
    const expected = await expectedFromSource();

    const taskQueue = `backfill-int-${randomUUID()}`;
    const id = `backfill-int-b-${runTag}`;
    const first = startWorkerProcess(taskQueue);
    const handle = await env.client.workflow.start(backfillWorkflow, {
      taskQueue,
      workflowId: id,
      args: [{ from, to, concurrency: 2, daysPerRun: 10, reason: 'source corrections' }],
      workflowExecutionTimeout: '10 minutes',
    });
    await waitFor(
      'the backfill to be a few days in',
      async () => ((await progress(id)).succeeded >= 4 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    await killHard(first);
    const atKill = await warehouse('final.runs').where({ backfill_id: id }).count({ n: '*' });
    startWorkerProcess(taskQueue);
    const report = await handle.result();

    expect(report).toMatchObject({ status: 'completed', succeeded: DAYS, failed: [] });
    expect(Number(atKill[0]?.n)).toBeLessThan(DAYS);
    expect(await publishedValues()).toEqual(expected);
    // The trail holds exactly the values that differ from the first backfill's, with both sides.
    const trail = await trailOf(id);
    const differing = new Set(
      [...new Set([...before.keys(), ...expected.keys()])].filter(
        (key) => before.get(key) !== expected.get(key),
      ),
    );
    expect(differing.size).toBeGreaterThan(0);
    expect(new Set(trail.map(valueKey))).toEqual(differing);
    for (const row of trail) {
      const key = valueKey(row);
      expect(row.previous_value === null ? undefined : round(Number(row.previous_value))).toBe(
        before.get(key),
      );
      expect(row.reason).toContain('source corrections');
    }
  }, 300_000);

  it('completes with the same values when the Temporal server is killed -9 midway', async () => {
    const expected = await expectedFromSource();
    const taskQueue = `backfill-int-${randomUUID()}`;
    const id = `backfill-int-d-${runTag}`;
    startWorkerProcess(taskQueue);
    const handle = await env.client.workflow.start(backfillWorkflow, {
      taskQueue,
      workflowId: id,
      args: [{ from, to, concurrency: 2, daysPerRun: 10, reason: 'server restart' }],
      workflowExecutionTimeout: '10 minutes',
    });
    await waitFor(
      'the backfill to be a few days in',
      async () => ((await progress(id)).succeeded >= 3 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    // Its history is in the server's SQLite file: the workflow, its timers and the activities
    // in flight resume where they were; the worker and this client reconnect by themselves.
    await killAndRestart(chooseStack(), 'temporal');
    const atRestart = await warehouse('final.runs').where({ backfill_id: id }).count({ n: '*' });
    const report = await handle.result();

    expect(Number(atRestart[0]?.n)).toBeLessThan(DAYS);
    expect(report).toMatchObject({ status: 'completed', succeeded: DAYS, failed: [] });
    expect(await publishedValues()).toEqual(expected);
    // Nothing changed in the source since the last backfill: no value was recorded as changed.
    expect(await trailOf(id)).toEqual([]);
  }, 300_000);

  it('stops on cancel: no new day starts and the report says cancelled', async () => {
    const taskQueue = `backfill-int-${randomUUID()}`;
    await startInProcessWorker(taskQueue);
    const id = `backfill-int-c-${runTag}`;
    const handle = await env.client.workflow.start(backfillWorkflow, {
      taskQueue,
      workflowId: id,
      args: [{ from, to, concurrency: 1, metrics: ['orders_per_minute'] }],
      workflowExecutionTimeout: '5 minutes',
    });
    await waitFor(
      'the first day to finish',
      async () => ((await progress(id)).succeeded >= 1 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await handle.signal(cancelBackfillSignal);
    const report = await handle.result();
    expect(report.status).toBe('cancelled');
    expect(report.succeeded).toBeLessThan(DAYS);
    expect(report.running).toEqual([]);
    expect(report.metrics).toEqual(['orders_per_minute']);
    const runs = await warehouse('final.runs').where({ backfill_id: id }).select('metrics');
    expect(runs.length).toBeLessThan(DAYS);
    for (const run of runs) expect(run.metrics).toEqual(['orders_per_minute']);
    expect(await warehouse('final.state_snapshots').where({ backfill_id: id })).toEqual([]);
  });
});
