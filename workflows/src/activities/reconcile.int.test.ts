import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsolidationActivities } from './consolidation';
import type { ConsolidationRun } from './run';

// The reconciliation's attribution on the real warehouse: staged final values of a run against a
// pipeline's provisional values, its late ledger and the dead letters replayed into it, each
// window written as the stream and the consolidation write them; for sessions, the final events
// are read from the raw changelog as the consolidation reads them.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 2);
const source = createDatabase(config.sourceReader, 1);
const pipeline = `reconcile-int-${randomUUID()}`;
const runId = `reconcile-int-${randomUUID()}`;
const day = '2001-02-03';
const MINUTE = 60_000;
const dayStart = Date.parse(`${day}T00:00:00Z`);
const at = (minute: number) => new Date(dayStart + minute * MINUTE);
const KEY = ['EUR'];
let deadLetterId: number;

/**
 * Sessions of three customers: orders (minutes of the day) in the changelog, the provisional
 * sessions the stream wrote, and the orders its late ledger kept out.
 */
const CUSTOMERS = [
  // A late order at 10:25 merges the sessions of 10:00 and 10:50.
  {
    name: 'merged',
    orders: [600, 625, 650],
    provisional: [
      [600, 630, 1],
      [650, 680, 1],
    ],
    late: [625],
  },
  // Three late orders form a session nothing provisional had.
  { name: 'formed', orders: [840, 850, 860], provisional: [], late: [840, 850, 860] },
  // The stream counted two orders, the changelog holds one, and nothing was kept out.
  { name: 'wrong', orders: [960], provisional: [[960, 990, 2]], late: [] },
] as const;
const customer = (name: string) => `${pipeline}-${name}`;

const run: ConsolidationRun = {
  runId,
  day,
  rangeStart: at(0).toISOString(),
  rangeEnd: at(24 * 60).toISOString(),
  cutoff: at(24 * 60 + 30).toISOString(),
  completeAt: at(24 * 60 + 30).toISOString(),
  metrics: ['orders_per_minute', 'customer_sessions'],
};

/** Minute windows: [final, provisional] counts, and what the late ledger holds for them. */
const WINDOWS: {
  minute: number;
  final: number | null;
  provisional: number | null;
  late?: { reason: string; lsn: number; sign?: -1 };
}[] = [
  { minute: 600, final: 3, provisional: 3 },
  { minute: 601, final: 4, provisional: 3, late: { reason: 'late_beyond_lateness', lsn: 9_001 } },
  {
    minute: 602,
    final: 2,
    provisional: 3,
    late: { reason: 'changed_after_close', lsn: 9_002, sign: -1 },
  },
  // The ledger holds a late order, but the difference is larger than it.
  { minute: 605, final: 6, provisional: 4, late: { reason: 'late_beyond_lateness', lsn: 9_005 } },
  // The late contribution came from a dead letter replayed after the window closed.
  {
    minute: 603,
    final: 1,
    provisional: null,
    late: { reason: 'late_beyond_lateness', lsn: 9_003 },
  },
  { minute: 604, final: 5, provisional: 4 },
  // Touched by a change committed before the pipeline started at the topics' end: not compared.
  { minute: 10, final: 7, provisional: null },
  // Before the pipeline started too, but no change it missed touched it: a real difference.
  { minute: 20, final: 2, provisional: null },
];

beforeAll(async () => {
  await warehouse('stream.pipelines').insert({ pipeline, observed_from: at(60) });
  await warehouse('final.runs').insert({
    run_id: runId,
    workflow_id: runId,
    day,
    range_start: run.rangeStart,
    range_end: run.rangeEnd,
    cutoff: run.cutoff,
    reason: 'reconcile test',
    status: 'computing',
  });
  for (const window of WINDOWS) {
    const bounds = { window_start: at(window.minute), window_end: at(window.minute + 1) };
    if (window.final !== null) {
      await warehouse('final.staged_values').insert({
        run_id: runId,
        metric: 'orders_per_minute',
        ...bounds,
        key_values: JSON.stringify(KEY),
        value: window.final,
        rows: window.final,
      });
    }
    if (window.provisional !== null) {
      await warehouse('provisional.metric_values').insert({
        pipeline,
        metric: 'orders_per_minute',
        ...bounds,
        group_key: JSON.stringify(KEY),
        key_values: JSON.stringify(KEY),
        accumulator: { sum: 0, rows: window.provisional, values: {}, measured: 0 },
        value: window.provisional,
      });
    }
    if (window.late) {
      await warehouse('ops.late_events').insert({
        pipeline,
        metric: 'orders_per_minute',
        ...bounds,
        group_key: JSON.stringify(KEY),
        key_values: JSON.stringify(KEY),
        source_table: 'shop.orders',
        primary_key: JSON.stringify({ id: `order-${window.minute}` }),
        lsn: window.late.lsn,
        op: window.late.sign === -1 ? 'd' : 'c',
        sign: window.late.sign ?? 1,
        event_time: at(window.minute),
        reason: window.late.reason,
      });
    }
  }
  await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [[day]]);
  let lsn = 20_000;
  for (const { name, orders, provisional, late } of CUSTOMERS) {
    const key = JSON.stringify([customer(name)]);
    for (const minute of orders) {
      const id = `${customer(name)}-${minute}`;
      lsn += 1;
      await warehouse('raw.change_events').insert({
        source_table: 'shop.orders',
        op: 'c',
        primary_key: JSON.stringify({ id }),
        lsn,
        committed_at: at(minute),
        captured_at: at(minute),
        after: JSON.stringify({ id, customer_id: customer(name), created_at: at(minute) }),
        kafka_topic: `${pipeline}.shop.orders`,
        kafka_partition: 0,
        kafka_offset: lsn,
        kafka_timestamp: at(minute),
      });
      if ((late as readonly number[]).includes(minute)) {
        await warehouse('ops.late_events').insert({
          pipeline,
          metric: 'customer_sessions',
          window_start: at(minute),
          window_end: at(minute + 30),
          group_key: key,
          key_values: key,
          source_table: 'shop.orders',
          primary_key: JSON.stringify({ id }),
          lsn,
          op: 'c',
          sign: 1,
          event_time: at(minute),
          reason: 'late_beyond_lateness',
        });
      }
    }
    for (const [start, end, value] of provisional) {
      await warehouse('provisional.metric_values').insert({
        pipeline,
        metric: 'customer_sessions',
        window_start: at(start),
        window_end: at(end),
        group_key: key,
        key_values: key,
        accumulator: { sum: 0, rows: value, values: {}, measured: 0 },
        value,
      });
    }
  }
  // What the consolidation stages for them: the sessions of the changelog's orders.
  for (const [name, start, end, value] of [
    ['merged', 600, 680, 3],
    ['formed', 840, 890, 3],
    ['wrong', 960, 990, 1],
  ] as const) {
    await warehouse('final.staged_values').insert({
      run_id: runId,
      metric: 'customer_sessions',
      window_start: at(start),
      window_end: at(end),
      key_values: JSON.stringify([customer(name)]),
      value,
      rows: value,
    });
  }
  // The change the pipeline never saw: committed at 00:10, before it started at 01:00.
  await warehouse('raw.change_events').insert({
    source_table: 'shop.orders',
    op: 'c',
    primary_key: JSON.stringify({ id: `${pipeline}-unseen` }),
    lsn: 1,
    committed_at: at(10),
    captured_at: at(10),
    after: JSON.stringify({ id: `${pipeline}-unseen`, currency: 'EUR', created_at: at(10) }),
    kafka_topic: `${pipeline}.shop.orders`,
    kafka_partition: 0,
    kafka_offset: 0,
    kafka_timestamp: at(10),
  });
  const [deadLetter] = await warehouse('ops.dead_letters')
    .insert({
      kafka_topic: `${pipeline}.shop.orders`,
      kafka_partition: 0,
      kafka_offset: 1,
      code: 'CONTRACT_VIOLATION',
      path: 'after.currency',
      message: 'was "euro"',
      raw: Buffer.from('{}'),
      replayed_at: at(24 * 60),
      replay_topic: `${pipeline}.shop.orders`,
      replay_source_table: 'shop.orders',
      replay_lsn: 9_003,
    })
    .returning('id');
  if (!deadLetter) throw new Error('the dead letter was not inserted');
  deadLetterId = Number(deadLetter.id);
});

afterAll(async () => {
  await warehouse('audit.reconciliation').where({ run_id: runId }).delete();
  await warehouse('final.staged_values').where({ run_id: runId }).delete();
  await warehouse('final.runs').where({ run_id: runId }).delete();
  await warehouse('provisional.metric_values').where({ pipeline }).delete();
  await warehouse('ops.late_events').where({ pipeline }).delete();
  await warehouse('stream.pipelines').where({ pipeline }).delete();
  await warehouse('raw.change_events')
    .where({ kafka_topic: `${pipeline}.shop.orders` })
    .delete();
  if (deadLetterId)
    await warehouse('ops.dead_letters')
      .where({ id: String(deadLetterId) })
      .delete();
  await Promise.all([warehouse.destroy(), source.destroy()]);
});

describe('the reconciliation', () => {
  it('names the cause of every difference, a replayed dead letter included', async () => {
    const activities = createConsolidationActivities({ warehouse, source, pipeline });
    const counts = await activities.reconcile(run);
    expect(counts).toEqual({
      exact: 1,
      late_beyond_lateness: 5,
      changed_after_close: 1,
      truncated: 0,
      kafka_gap: 0,
      dead_lettered: 1,
      unexplained: 4,
      unobserved: 1,
    });
    const rows = await warehouse('audit.reconciliation')
      .where({ run_id: runId, metric: 'orders_per_minute' })
      .orderBy('window_start')
      .select('window_start', 'provisional', 'final', 'difference', 'cause', 'explanation');
    expect(
      rows.map((row) => [
        (new Date(row.window_start).getTime() - dayStart) / MINUTE,
        row.provisional === null ? null : Number(row.provisional),
        row.final === null ? null : Number(row.final),
        row.difference === null ? null : Number(row.difference),
        row.cause,
        row.explanation,
      ]),
    ).toEqual([
      [
        20,
        null,
        2,
        null,
        'unexplained',
        'provisional none, final 2, nothing kept out by the stream',
      ],
      [600, 3, 3, 0, 'exact', null],
      [601, 3, 4, 1, 'late_beyond_lateness', '1 late change of shop.orders (+1)'],
      [602, 3, 2, -1, 'changed_after_close', '1 change after close of shop.orders (−1)'],
      [603, null, 1, null, 'dead_lettered', '1 replayed dead letter of shop.orders (+1)'],
      [604, 4, 5, 1, 'unexplained', 'provisional 4, final 5, nothing kept out by the stream'],
      [
        605,
        4,
        6,
        2,
        'unexplained',
        'provisional 4 with the 1 contribution kept out (1 late change of shop.orders (+1)) gives 5, final 6',
      ],
    ]);
  });

  it("explains sessions by the late orders that merged or formed them, from the changelog's events", async () => {
    const activities = createConsolidationActivities({ warehouse, source, pipeline });
    await activities.reconcile(run);
    const rows = await warehouse('audit.reconciliation')
      .where({ run_id: runId, metric: 'customer_sessions' })
      .orderBy(['window_start', 'window_end'])
      .select('window_start', 'window_end', 'key_values', 'cause', 'explanation');
    const minute = (value: Date) => (new Date(value).getTime() - dayStart) / MINUTE;
    expect(
      rows.map((row) => [
        (row.key_values as string[])[0]?.slice(pipeline.length + 1),
        minute(row.window_start),
        minute(row.window_end),
        row.cause,
        row.explanation,
      ]),
    ).toEqual([
      [
        'merged',
        600,
        630,
        'late_beyond_lateness',
        'provisional session replaced by 1 late change of shop.orders (+1)',
      ],
      [
        'merged',
        600,
        680,
        'late_beyond_lateness',
        'session merged from 2 provisional by 1 late change of shop.orders (+1)',
      ],
      [
        'merged',
        650,
        680,
        'late_beyond_lateness',
        'provisional session replaced by 1 late change of shop.orders (+1)',
      ],
      [
        'formed',
        840,
        890,
        'late_beyond_lateness',
        'session formed by 3 late changes of shop.orders (+3)',
      ],
      [
        'wrong',
        960,
        990,
        'unexplained',
        'provisional 16:00–16:30 (2), final 16:00–16:30 (1), nothing kept out by the stream',
      ],
    ]);
  });

  it('is idempotent: a second reconciliation replaces the first', async () => {
    const activities = createConsolidationActivities({ warehouse, source, pipeline });
    await activities.reconcile(run);
    const [count] = await warehouse('audit.reconciliation')
      .where({ run_id: runId })
      .count({ n: '*' });
    expect(Number(count?.n)).toBe(12);
  });
});
