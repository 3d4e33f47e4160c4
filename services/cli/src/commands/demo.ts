import { writeOrders, type DemoOrder } from '@tidemark/loadgen';
import { resetPipeline, type StreamPipeline } from '@tidemark/stream';
import {
  createDatabase,
  createKafka,
  createLogger,
  waitFor,
  withTimeout,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import type { Knex } from 'knex';
import {
  createTemporalClient,
  createTidemarkWorker,
  traceChangeWorkflow,
  type LandedChangeSummary,
} from '@tidemark/workflows';
import { renderTable } from '../table';
import { describeConnector, registerShopConnector } from './connector';
import { runDemoBatch } from './demo-batch';
import { runLiveLoad, StreamTally } from './demo-live-load';
import { migrateAll } from './migrate';
import { startShopPipeline } from './run-services';

const DEMO_ORDERS = 5;
/** The demo's own stream pipeline, reset at every run: it starts at the topics' end. */
const DEMO_PIPELINE = 'tidemark-demo';
/**
 * The customers of this run, new at every run: a session of a customer the pipeline also saw
 * before it started (an earlier run) is one it saw only part of, which the audit leaves out.
 */
const customers = `demo-${Date.now().toString(36)}`;
const HOUR = 3_600_000;
const LOAD_RATE = 500;
const LOAD_SECONDS = 15;

interface OrderJourney {
  order: DemoOrder;
  landed: LandedChangeSummary;
  workflowMs: number;
  workflowId: string;
}

/**
 * The walking skeleton, end to end on the running stack: orders written to shop.orders travel
 * through Debezium, Kafka and the landing consumer into the warehouse, and a Temporal workflow
 * reads each one back. Prints where each arrived and how long each hop took.
 */
export async function runDemo(
  config: Config,
  logger: Logger,
  print: (line: string) => void,
): Promise<void> {
  const applied = await migrateAll(config);
  print(
    `migrations: source ${applied.source.length} applied, warehouse ${applied.warehouse.length} applied (up to date)`,
  );
  print(`debezium:   ${describeConnector(await registerShopConnector(config, logger))}`);

  const source = createDatabase(config.source);
  // The stream and the worker connect as their own roles, as deployed; the demo's own queries
  // only read.
  const warehouse = createDatabase(config.warehouseReader);
  const streamWarehouse = createDatabase(config.warehouseStream);
  const workerWarehouse = createDatabase(config.warehouseWorker);
  const taskQueue = `tidemark-demo-${process.pid}`;
  const sourceReader = createDatabase(config.sourceReader, 2);
  const { worker, connection } = await createTidemarkWorker({
    config,
    warehouse: workerWarehouse,
    source: sourceReader,
    taskQueue,
    pipeline: DEMO_PIPELINE,
  });
  const workerRun = worker.run();
  const client = await createTemporalClient(config);
  const tally = new StreamTally();
  // Each demo starts its pipeline afresh at the topics' end, whatever ran since the last one.
  await resetPipeline(streamWarehouse, createKafka(config, DEMO_PIPELINE, logger), DEMO_PIPELINE);
  // The pipeline's warnings (late rows, dead letters) are the demo's subject: it prints them itself.
  const stream = await startShopPipeline(
    config,
    createLogger({ level: 'error' }),
    streamWarehouse,
    {
      pipeline: DEMO_PIPELINE,
      startAt: 'latest',
      idleTimeoutMs: 1_000,
      tickMs: 250,
      onBatch: (stats) => tally.observe(stats),
      onSessions: (stats) => tally.observeSessions(stats),
    },
  );
  try {
    await withTimeout(stream.joined, 60_000, 'the stream pipeline to join its group');
    print(`stream:     pipeline ${DEMO_PIPELINE} joined, worker polling task queue ${taskQueue}`);

    const orders = await writeOrders(source, DEMO_ORDERS, { customerPrefix: customers });
    print(`source:     wrote ${orders.length} orders into shop.orders`);
    await waitFor(
      `${orders.length} demo orders to land in raw.change_events`,
      async () => {
        const landed = await warehouse('raw.change_events')
          .where({ source_table: 'shop.orders' })
          .whereRaw("primary_key->>'id' = ANY(?)", [orders.map((order) => order.id)])
          .countDistinct({ count: 'primary_key' });
        return Number(landed[0]?.count) === orders.length ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const journeys = await Promise.all(
      orders.map(async (order): Promise<OrderJourney> => {
        const workflowId = `demo-trace-${order.id}`;
        const startedAtMs = Date.now();
        const changes = await client.workflow.execute(traceChangeWorkflow, {
          taskQueue,
          workflowId,
          args: [{ table: 'shop.orders', primaryKey: { id: order.id } }],
          // A demo that cannot reach its worker fails with a message instead of waiting forever.
          workflowExecutionTimeout: '1 minute',
        });
        const landed = changes[0];
        if (!landed) throw new Error(`workflow ${workflowId} returned no change`);
        return { order, landed, workflowMs: Date.now() - startedAtMs, workflowId };
      }),
    );
    print('');
    print(renderJourneys(journeys));
    print('');
    print(
      'commit→kafka: source commit (Debezium source.ts_ms) to the Kafka record written by Connect;',
    );
    print(
      'kafka→warehouse: to the row in raw.change_events; workflow: traceChangeWorkflow reading it back.',
    );
    print(`workflows:  ${journeys[0]?.workflowId ?? ''} ... (see the Temporal UI)`);
    print('');
    await showStreamCases(source, warehouse, stream, orders, print);
    print('');
    print(
      `load:       ${LOAD_RATE} changes/s for ${LOAD_SECONDS} s (updates, deletes, retries, late and poison rows); provisional values live (value rN = revision N):`,
    );
    const report = await runLiveLoad({
      source,
      warehouse,
      stream,
      tally,
      pipeline: DEMO_PIPELINE,
      print,
      redraw: process.stdout.isTTY === true,
      ratePerSec: LOAD_RATE,
      durationMs: LOAD_SECONDS * 1000,
      customerPrefix: customers,
    });
    print(
      `load:       ${report.operations} operations at ${report.achievedRatePerSec}/s, ${report.late} late rows, ${report.poison} poison rows`,
    );
    print(await describeLoadOutcome(warehouse, report.startedAt));
    print('');
    await runDemoBatch({
      config,
      client,
      warehouse,
      workerWarehouse,
      sourceReader,
      taskQueue,
      pipeline: DEMO_PIPELINE,
      print,
    });
  } finally {
    await stream.stop();
    worker.shutdown();
    await workerRun;
    await connection.close();
    await client.connection.close();
    await Promise.all(
      [source, warehouse, streamWarehouse, workerWarehouse, sourceReader].map((db) => db.destroy()),
    );
  }
}

function renderJourneys(journeys: readonly OrderJourney[]): string {
  const ms = (from: string, to: string) => new Date(to).getTime() - new Date(from).getTime();
  return renderTable(
    [
      'order',
      'amount',
      'captured as',
      'commit→kafka ms',
      'kafka→warehouse ms',
      'commit→warehouse ms',
      'workflow ms',
    ],
    journeys.map(({ order, landed, workflowMs }) => [
      order.id.slice(0, 8),
      `${(order.amount_minor / 100).toFixed(2)} ${order.currency}`,
      `op=${landed.op} lsn=${landed.lsn}`,
      ms(landed.committedAt, landed.kafkaTimestamp),
      ms(landed.kafkaTimestamp, landed.landedAt),
      ms(landed.committedAt, landed.landedAt),
      workflowMs,
    ]),
  );
}

/**
 * The streaming layer's cases on the demo's orders: provisional values per minute, a retraction
 * (a cancelled order), a late order kept in the late ledger and a poison row dead-lettered.
 */
async function showStreamCases(
  source: Knex,
  warehouse: Knex,
  stream: StreamPipeline,
  orders: readonly DemoOrder[],
  print: (line: string) => void,
): Promise<void> {
  const currencies = [...new Set(orders.map((order) => order.currency))];
  const minutes = [
    ...new Set(orders.map((order) => Math.floor(order.created_at.getTime() / 60_000) * 60_000)),
  ].map((ms) => new Date(ms));
  // The demo orders' own minutes: their stream transaction landed them, so they are counted.
  const values = () =>
    warehouse('provisional.metric_values')
      .where({ pipeline: DEMO_PIPELINE })
      .whereIn('metric', ['orders_per_minute', 'revenue_per_minute'])
      .whereIn(
        'group_key',
        currencies.map((currency) => JSON.stringify([currency])),
      )
      .whereIn('window_start', minutes)
      .orderBy(['metric', 'window_start', 'group_key'])
      .select('metric', 'window_start', 'group_key', 'value', 'revision', 'status');
  print("provisional values of the demo orders' minutes (pipeline tidemark-demo):");
  print(renderValues(await values()));

  const cancelled = orders[0] as DemoOrder;
  const cancelledRow = () =>
    warehouse('provisional.metric_values')
      .where({
        pipeline: DEMO_PIPELINE,
        metric: 'orders_per_minute',
        group_key: JSON.stringify([cancelled.currency]),
        window_start: new Date(Math.floor(cancelled.created_at.getTime() / 60_000) * 60_000),
      })
      .first('metric', 'window_start', 'group_key', 'value', 'revision', 'status');
  const before = await cancelledRow();
  await source('shop.orders').where({ id: cancelled.id }).update({ status: 'cancelled' });
  // An order is late only against a watermark: wait until the stream has one past its window.
  const lateAt = Date.now() - HOUR;
  await waitFor(
    'the stream to know its watermark',
    async () =>
      (stream.watermarks().get('orders_per_minute') ?? 0) > lateAt + 10 * 60_000 || undefined,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  const [late] = await source('shop.orders')
    .insert({
      customer_id: `${customers}-late`,
      amount_minor: 1234,
      currency: cancelled.currency,
      status: 'paid',
      created_at: new Date(lateAt),
    })
    .returning('id');
  const [poison] = await source('shop.orders')
    .insert({ customer_id: 'demo-poison', amount_minor: 99, currency: 'euro', status: 'paid' })
    .returning('id');
  const lateEntry = await waitFor(
    'the late order in ops.late_events',
    async () =>
      warehouse('ops.late_events')
        .where({ pipeline: DEMO_PIPELINE, metric: 'orders_per_minute' })
        .where('primary_key', JSON.stringify({ id: late.id }))
        .first<{ reason: string; window_start: Date; watermark: Date } | undefined>(
          'reason',
          'window_start',
          'watermark',
        ),
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  const deadLetter = await waitFor(
    'the poison order in ops.dead_letters',
    async () =>
      warehouse('ops.dead_letters')
        .whereRaw("convert_from(raw, 'UTF8')::jsonb->'after'->>'id' = ?", [poison.id])
        .first<{ code: string; path: string } | undefined>('code', 'path'),
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  const retracted = await waitFor(
    'the cancellation to retract the order',
    async () => {
      const row = await cancelledRow();
      return row && Number(row.value) === Number(before?.value) - 1 ? row : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  print('');
  print(
    `retraction: order ${cancelled.id.slice(0, 8)} cancelled; its minute counts one less, revision ${before?.revision} -> ${retracted.revision}:`,
  );
  print(renderValues([retracted]));
  print(
    `late:       order ${String(late.id).slice(0, 8)} created an hour ago -> ops.late_events (${lateEntry.reason}, window ${iso(lateEntry.window_start)}, watermark ${iso(lateEntry.watermark)})`,
  );
  print(
    `dead letter: order ${String(poison.id).slice(0, 8)} with currency "euro" -> ops.dead_letters (${deadLetter.code} at ${deadLetter.path}) and the tidemark.dlq topic`,
  );
}

/** What the load left in the late ledger and the dead-letter table, and how often values were revised. */
async function describeLoadOutcome(warehouse: Knex, since: Date): Promise<string> {
  const late = await warehouse('ops.late_events')
    .where({ pipeline: DEMO_PIPELINE })
    .where('recorded_at', '>=', since)
    .groupBy('reason')
    .select('reason', warehouse.raw('count(*)::int as n'));
  const dead = await warehouse('ops.dead_letters')
    .where('received_at', '>=', since)
    .groupBy('path')
    .select<{ path: string; n: number }[]>('path', warehouse.raw('count(*)::int as n'));
  const revised = await warehouse('provisional.metric_values')
    .where({ pipeline: DEMO_PIPELINE })
    .where('updated_at', '>=', since)
    .where('revision', '>', 1)
    .count({ n: '*' })
    .first();
  const list = (rows: { n: number }[], label: (row: never) => string) =>
    rows.length === 0 ? 'none' : rows.map((row) => `${row.n} ${label(row as never)}`).join(', ');
  return [
    `late:       ${list(late, (row: { reason: string }) => row.reason)} (ops.late_events; never counted, never dropped)`,
    `dead:       ${list(dead, (row: { path: string }) => `at ${row.path}`)} (ops.dead_letters and tidemark.dlq; \`npx tidemark dlq list\`)`,
    `revised:    ${Number(revised?.n ?? 0)} windows emitted more than once (updates retract and re-add)`,
  ].join('\n');
}

function iso(value: Date | string): string {
  return new Date(value).toISOString().slice(11, 19);
}

function renderValues(
  rows: readonly {
    metric: string;
    window_start: Date;
    group_key: string;
    value: string | null;
    revision: number;
    status: string;
  }[],
): string {
  return renderTable(
    ['metric', 'window (UTC)', 'key', 'value', 'revision', 'status'],
    rows.map((row) => [
      row.metric,
      iso(row.window_start),
      (JSON.parse(row.group_key) as unknown[]).join(','),
      row.value ?? '(pending)',
      row.revision,
      row.status,
    ]),
  );
}
