import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import { resetPipeline } from '@tidemark/stream';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { killHard, startStreamProcess as startProcess } from '../../../../test/integration/process';
import { writeOrderTraffic } from '../../../../test/integration/order-traffic';
import { REPO_ROOT } from '../paths';

// The stream process killed with SIGKILL at random points during a load, and restarted, must
// end with exactly the values of the source table: no change lost, none counted twice.

const config = loadConfig();
const source = createDatabase(config.source, 4);
// Event time truncated to milliseconds by PostgreSQL, as the stream and the final SQL see it.
const MS_CREATED_AT = source.raw("date_trunc('milliseconds', created_at) AS created_at");
const warehouse = createDatabase(config.warehouse, 2);
const pipeline = `stream-crash-${randomUUID()}`;
const currency = Array.from({ length: 3 }, () =>
  String.fromCharCode(65 + Math.floor(Math.random() * 26)),
).join('');
const MINUTE = 60_000;
const running = new Set<ChildProcess>();

function startStreamProcess(): ChildProcess {
  return startProcess(REPO_ROOT, pipeline, running);
}

async function storedOffsets(): Promise<number> {
  const rows = await warehouse('ops.consumer_offsets').where({ group_id: pipeline });
  return rows.length;
}

/** A stream of orders: inserts, status and amount updates, deletes, some in one transaction. */
function writeTraffic(until: () => boolean): Promise<number> {
  return writeOrderTraffic(source, {
    until,
    deleteEvery: 5,
    ordersOf: (step) =>
      Array.from({ length: 5 }, (_, index) => ({
        customer_id: `crash-${(step + index) % 7}`,
        amount_minor: 100 + ((step * 37 + index * 11) % 900),
        currency,
        status: index % 3 === 0 ? 'pending' : 'paid',
      })),
  });
}

async function sourceValues() {
  const rows = await source('shop.orders')
    .where({ currency })
    .select('amount_minor', 'status', MS_CREATED_AT);
  const count = new Map<number, number>();
  const revenue = new Map<number, number>();
  for (const row of rows as { amount_minor: string; status: string; created_at: Date }[]) {
    const window = Math.floor(row.created_at.getTime() / MINUTE) * MINUTE;
    if (row.status !== 'cancelled') count.set(window, (count.get(window) ?? 0) + 1);
    if (row.status !== 'cancelled' && row.status !== 'refunded') {
      revenue.set(window, (revenue.get(window) ?? 0) + Number(row.amount_minor));
    }
  }
  return { count, revenue };
}

async function provisionalValues(metric: string) {
  const rows = await warehouse('provisional.metric_values')
    .where({ pipeline, metric, group_key: JSON.stringify([currency]) })
    .select('window_start', 'value', 'pending');
  return new Map(
    rows
      .filter((row) => row.value !== null && Number(row.value) !== 0 && !row.pending)
      .map((row) => [new Date(row.window_start).getTime(), Number(row.value)]),
  );
}

afterAll(async () => {
  await Promise.all([...running].map(killHard));
  await resetPipeline(warehouse, createKafka(config, pipeline, silentLogger), pipeline);
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

describe('the stream process under kill -9', () => {
  it('ends with exactly the expected values after several kills during a load', async () => {
    let child = startStreamProcess();
    // Let it join and store its first position before the load starts.
    await new Promise((resolve) => setTimeout(resolve, 8_000));

    let loading = true;
    const traffic = writeTraffic(() => !loading);
    const kills = 3;
    for (let round = 0; round < kills; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 2_000 + Math.random() * 3_000));
      await killHard(child);
      child = startStreamProcess();
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    loading = false;
    const written = await traffic;
    expect(written).toBeGreaterThan(100);
    expect(await storedOffsets()).toBeGreaterThan(0);

    const matched = await waitFor(
      'provisional values to equal the source table after the kills',
      async () => {
        const expected = await sourceValues();
        const count = await provisionalValues('orders_per_minute');
        const revenue = await provisionalValues('revenue_per_minute');
        const same = (a: Map<number, number>, b: Map<number, number>) =>
          a.size === b.size && [...a].every(([window, value]) => b.get(window) === value);
        return same(count, expected.count) && same(revenue, expected.revenue)
          ? expected
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect([...matched.count.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
    const late = await warehouse('ops.late_events')
      .where({ pipeline, group_key: JSON.stringify([currency]) })
      .count({ n: '*' })
      .first();
    expect(Number(late?.n)).toBe(0);
  }, 240_000);
});
