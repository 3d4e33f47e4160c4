import {
  customerSessions,
  METRICS,
  ordersPerMinute,
  revenuePerMinute,
  type MetricDefinition,
} from '@tidemark/contracts';
import { runLoad, type LoadReport } from '@tidemark/loadgen';
import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import { resetPipeline, startStreamPipeline, type StreamPipeline } from '@tidemark/stream';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOffsets, waitCaptured } from '../../../test/integration/pipeline';
import { finalMetricSql } from './final-metric-sql';

// The batch layer's SQL, generated from the same definitions the stream runs, over the table
// state rebuilt from the raw changelog: it must equal aggregating the source table itself,
// late rows included (final values are complete), dead letters excluded.

const config = loadConfig();
const source = createDatabase(config.source, 6);
// Event time truncated to milliseconds by PostgreSQL, as the stream and the final SQL see it.
const MS_CREATED_AT = source.raw("date_trunc('milliseconds', created_at) AS created_at");
const warehouse = createDatabase(config.warehouse, 4);
const prefix = config.kafka.topicPrefix;
const kafka = createKafka(config, 'final-metrics-int', silentLogger);
const pipeline = `final-int-${randomUUID()}`;
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );
const currencies = [letters(), letters()];
const MINUTE = 60_000;
let stream: StreamPipeline;
let report: LoadReport;

beforeAll(async () => {
  stream = await startStreamPipeline({
    kafka: createKafka(config, pipeline, silentLogger),
    warehouse,
    logger: silentLogger,
    pipeline,
    topics: new Map([['shop.orders', `${prefix}.shop.orders`]]),
    metrics: METRICS.filter((metric) => metric.source.table === 'shop.orders'),
    startAt: 'latest',
    idleTimeoutMs: 1_000,
    tickMs: 500,
  });
  await stream.joined;
  const before = await endOffsets(kafka, `${prefix}.shop.orders`);
  report = await runLoad(source, {
    ratePerSec: 600,
    durationMs: 6_000,
    seed: 4242,
    currencies,
    customerPrefix: pipeline,
    customers: 30,
    updates: 0.15,
    deletes: 0.03,
    duplicates: 0.02,
    pkChanges: 0.01,
    payments: 0,
    poison: 0.01,
    late: 0.05,
    lateByMs: 20 * MINUTE,
    outOfOrder: 0.2,
  });
  // Everything the load wrote is landed once Debezium has captured it all and the pipeline has
  // stored the topic's end offsets then. (Counting messages on the topic was not enough: a
  // delete's tombstone makes counts of changes lower bounds, and Debezium may pause.)
  await waitCaptured(source);
  await endOffsets(kafka, `${prefix}.shop.orders`).then((ends) =>
    waitFor(
      'the pipeline to land the load',
      async () => {
        const stored = await warehouse('ops.consumer_offsets').where({ group_id: pipeline });
        return (
          [...ends].every(([partition, end]) => {
            const row = stored.find((candidate) => candidate.partition === partition);
            return end <= (before.get(partition) ?? 0n) || (row && BigInt(row.next_offset) >= end);
          }) || undefined
        );
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ),
  );
});

afterAll(async () => {
  await stream?.stop();
  await resetPipeline(warehouse, kafka, pipeline);
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

interface SourceOrder {
  id: string;
  customer_id: string;
  currency: string;
  amount_minor: string;
  status: string;
  created_at: Date;
}

/** The truth: the source table's rows of this run, poison rows left out (they never landed). */
async function sourceOrders(): Promise<SourceOrder[]> {
  const poison = new Set(report.ids.poison);
  const rows = (await source('shop.orders')
    .whereIn('currency', currencies)
    .select(
      'id',
      'customer_id',
      'currency',
      'amount_minor',
      'status',
      MS_CREATED_AT,
    )) as SourceOrder[];
  return rows.filter((row) => !poison.has(row.id));
}

async function finalValues(metric: MetricDefinition, keep: (keys: unknown[]) => boolean) {
  const now = Date.now();
  const range = {
    start: new Date(Math.floor((now - 2 * 60 * MINUTE) / MINUTE) * MINUTE),
    end: new Date(now + 60 * MINUTE),
    cutoff: new Date(now),
  };
  const { sql, bindings } = finalMetricSql(metric, range);
  const result = await warehouse.raw(sql, bindings);
  return new Map(
    (
      result.rows as {
        window_start: Date;
        window_end: Date;
        key_values: unknown[];
        value: string;
      }[]
    )
      .filter((row) => keep(row.key_values))
      .map((row) => [
        `${row.window_start.getTime()}|${row.window_end.getTime()}|${row.key_values.join(',')}`,
        Number(row.value),
      ]),
  );
}

const ofRun = (keys: unknown[]) => currencies.includes(String(keys[0]));

describe('final metrics as SQL over the raw changelog', () => {
  it('wrote a load with late rows, updates, deletes and poison', () => {
    expect(report.late).toBeGreaterThan(0);
    expect(report.byKind.update_order).toBeGreaterThan(0);
    expect(report.byKind.delete_order).toBeGreaterThan(0);
  });

  it('orders and revenue per minute equal the source table, late rows included', async () => {
    const orders = await sourceOrders();
    const count = new Map<string, number>();
    const revenue = new Map<string, number>();
    for (const row of orders) {
      const start = Math.floor(row.created_at.getTime() / MINUTE) * MINUTE;
      const key = `${start}|${start + MINUTE}|${row.currency}`;
      if (row.status !== 'cancelled') count.set(key, (count.get(key) ?? 0) + 1);
      if (row.status !== 'cancelled' && row.status !== 'refunded') {
        revenue.set(key, (revenue.get(key) ?? 0) + Number(row.amount_minor));
      }
    }
    expect(await finalValues(ordersPerMinute, ofRun)).toEqual(count);
    expect(await finalValues(revenuePerMinute, ofRun)).toEqual(revenue);
  });

  it('customer sessions equal gaps-and-islands over the source table', async () => {
    const orders = await sourceOrders();
    const gapMs = customerSessions.window.kind === 'session' ? customerSessions.window.gapMs : 0;
    const byCustomer = new Map<string, number[]>();
    for (const row of orders) {
      byCustomer.set(row.customer_id, [
        ...(byCustomer.get(row.customer_id) ?? []),
        row.created_at.getTime(),
      ]);
    }
    const expected = new Map<string, number>();
    for (const [customer, times] of byCustomer) {
      times.sort((a, b) => a - b);
      let start = times[0] as number;
      let last = start;
      let count = 0;
      for (const time of [...times, Number.POSITIVE_INFINITY]) {
        if (count > 0 && time - last >= gapMs) {
          expected.set(`${start}|${last + gapMs}|${customer}`, count);
          start = time;
          count = 0;
        }
        last = time;
        count += 1;
      }
    }
    const customers = new Set(byCustomer.keys());
    const actual = await finalValues(customerSessions, (keys) => customers.has(String(keys[0])));
    expect(actual).toEqual(expected);
  });
});
