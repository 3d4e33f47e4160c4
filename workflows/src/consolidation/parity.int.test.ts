import { defineMetric, type MetricDefinition } from '@tidemark/contracts';
import { seededRandom } from '@tidemark/loadgen';
import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryStore,
  MINUTE,
  ORDER_METRICS,
  randomChangelog,
} from '../../../services/stream/src/windowing/changelog.fixture';
import { T0 } from '../../../services/stream/src/windowing/order-changes.fixture';
import type { KeyedChange } from '../../../services/stream/src/windowing/plan';
import {
  accumulate,
  ACCUMULATOR_SQL_TWINS,
  emptyAccumulator,
  mergeAccumulator,
  resultOf,
  type Accumulator,
} from '@tidemark/stream/windowing';
import type { Aggregate } from '@tidemark/contracts';
import { finalMetricSql } from './final-metric-sql';

// One metric definition, two engines: random changelogs of shop.orders (inserts, updates,
// deletes, primary-key changes, event-time moves, redeliveries, re-snapshots) applied by the
// stream's planner and operators with no lateness, and the same changes landed in the real
// warehouse's raw changelog and computed by the batch layer's generated SQL. For the catalogue's
// metrics and random definitions of every aggregate, window kind, key and filter the definition
// schema allows, every (metric, window, key) must have the same value in both.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 2);
const table = `parity_${randomUUID().replaceAll('-', '').slice(0, 12)}.orders`;
const DAY = new Date(T0).toISOString().slice(0, 10);
const range = {
  start: new Date(`${DAY}T00:00:00Z`),
  end: new Date(Date.parse(`${DAY}T00:00:00Z`) + 24 * 60 * MINUTE),
  cutoff: new Date(Date.parse(`${DAY}T00:00:00Z`) + 48 * 60 * MINUTE),
};

/** Random definitions on shop.orders within the definition schema, validated like any other. */
function randomDefinitions(seed: number, count: number): MetricDefinition[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const aggregates = [
    { fn: 'count' },
    { fn: 'sum', of: { field: 'amount_minor' } },
    { fn: 'sum', of: { indicator: { field: 'status', op: 'eq', value: 'paid' } } },
    { fn: 'avg', of: { field: 'amount_minor' } },
    { fn: 'min', of: { field: 'amount_minor' } },
    { fn: 'max', of: { field: 'amount_minor' } },
    { fn: 'count_distinct', of: { field: 'customer_id' } },
    { fn: 'count_distinct', of: { field: 'amount_minor' } },
  ] as const;
  const filters = [
    [],
    [{ field: 'status', op: 'neq', value: 'cancelled' }],
    [{ field: 'status', op: 'in', value: ['paid', 'refunded'] }],
    [{ field: 'amount_minor', op: 'gte', value: 500 }],
    [{ field: 'channel', op: 'is_null' }],
    [
      { field: 'currency', op: 'not_in', value: ['GBP'] },
      { field: 'amount_minor', op: 'lt', value: 800 },
    ],
  ] as const;
  const keys = [[], ['currency'], ['currency', 'status'], ['customer_id']] as const;
  const windows = () => {
    const kind = pick(['tumbling', 'hopping', 'session'] as const);
    if (kind === 'session') return { kind, gapMs: (1 + Math.floor(random() * 45)) * MINUTE };
    const slide = pick([1, 2, 5, 10]) * MINUTE;
    if (kind === 'tumbling') return { kind, sizeMs: slide };
    return { kind, sizeMs: slide * (2 + Math.floor(random() * 3)), slideMs: slide };
  };
  return Array.from({ length: count }, (_, index) =>
    defineMetric({
      name: `parity_${seed}_${index}`,
      description: 'A random definition of the parity test.',
      owner: 'test',
      source: { table: 'shop.orders', contractVersion: 2 },
      eventTimeField: 'created_at',
      keys: [...pick(keys)],
      aggregate: pick(aggregates),
      filter: structuredClone(pick(filters)) as unknown as MetricDefinition['filter'],
      window: windows(),
      outOfOrdernessMs: 0,
      allowedLatenessMs: 0,
      emit: { kind: 'on_update' },
    }),
  );
}

/** Every (metric, window, key) the batch layer's SQL computes from the landed changelog. */
async function batchValues(metrics: readonly MetricDefinition[]): Promise<Map<string, unknown>> {
  const values = new Map<string, unknown>();
  for (const metric of metrics) {
    const landed = { ...metric, source: { ...metric.source, table } };
    const { sql, bindings } = finalMetricSql(landed, range);
    const result = await warehouse.raw<{
      rows: { window_start: Date; window_end: Date; key_values: unknown[]; value: string }[];
    }>(sql, bindings);
    for (const row of result.rows) {
      const key = `${metric.name}|${row.window_start.getTime()}|${row.window_end.getTime()}|${JSON.stringify(row.key_values)}`;
      values.set(key, row.value === null ? null : Number(row.value));
    }
  }
  return values;
}

/** The changes as the stream lands them in raw.change_events (a redelivery lands once). */
async function land(log: readonly KeyedChange[], offset: number): Promise<void> {
  const rows = log.map((change, index) => ({
    source_table: table,
    op: change.event.op,
    primary_key: change.primaryKey,
    lsn: change.event.source.lsn,
    committed_at: new Date(change.event.source.committedAtMs),
    captured_at: new Date(change.event.capturedAtMs),
    before: change.event.before === null ? null : JSON.stringify(change.event.before),
    after: change.event.after === null ? null : JSON.stringify(change.event.after),
    kafka_topic: table,
    kafka_partition: 0,
    kafka_offset: offset + index,
    kafka_timestamp: new Date(change.event.capturedAtMs),
  }));
  for (let start = 0; start < rows.length; start += 500) {
    await warehouse('raw.change_events')
      .insert(rows.slice(start, start + 500))
      .onConflict()
      .ignore();
  }
}

/** The stream's values: the planner over the log, in batches, as one partition applies it. */
function streamValues(log: readonly KeyedChange[], metrics: readonly MetricDefinition[]) {
  const store = new MemoryStore(metrics);
  const random = seededRandom(log.length);
  for (let start = 0; start < log.length;) {
    const size = 1 + Math.floor(random() * 60);
    store.apply(log.slice(start, start + size));
    start += size;
  }
  expect(store.late).toEqual([]);
  return store.values();
}

/** Equal up to floating-point noise (an average is a division in both engines). */
function sameValues(stream: Map<string, unknown>, batch: Map<string, unknown>): string[] {
  const differences: string[] = [];
  for (const key of new Set([...stream.keys(), ...batch.keys()])) {
    const a = stream.get(key);
    const b = batch.get(key);
    const close =
      typeof a === 'number' && typeof b === 'number'
        ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))
        : a === b;
    if (!close) differences.push(`${key}: stream ${String(a)}, batch ${String(b)}`);
  }
  return differences;
}

beforeAll(async () => {
  await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [[DAY]]);
});

afterAll(async () => {
  await warehouse('raw.change_events').where({ source_table: table }).delete();
  await warehouse.destroy();
});

describe('the stream and the batch layer, on the same changelogs', () => {
  it('agree on every window of every definition', async () => {
    let offset = 0;
    let compared = 0;
    for (let seed = 1; seed <= 6; seed += 1) {
      await warehouse('raw.change_events').where({ source_table: table }).delete();
      const { log } = randomChangelog(seed, 400);
      await land(log, offset);
      offset += log.length;
      const metrics = [...ORDER_METRICS, ...randomDefinitions(seed, 8)];
      const stream = streamValues(log, metrics);
      const batch = await batchValues(metrics);
      const differences = sameValues(stream, batch);
      expect(differences, `seed ${seed}:\n${differences.slice(0, 10).join('\n')}`).toEqual([]);
      compared += stream.size;
    }
    expect(compared).toBeGreaterThan(1_000);
  });
});

/** A random accumulator as the stream builds it: measures added and retracted. */
function randomAccumulator(random: () => number, distinct: boolean): Accumulator {
  const accumulator = emptyAccumulator();
  const measures = distinct ? ['a', 'b', 'c', 'd'] : [0, 1, -3, 12.5, 100, 0.25, 7, 1e6, -0.125];
  const aggregate: Aggregate = distinct
    ? { fn: 'count_distinct', of: { field: 'x' } }
    : { fn: 'min', of: { field: 'x' } };
  for (let step = Math.floor(random() * 12); step > 0; step -= 1) {
    const measure = random() < 0.1 ? null : measures[Math.floor(random() * measures.length)]!;
    accumulate(accumulator, aggregate, measure, random() < 0.75 ? 1 : -1);
  }
  return accumulator;
}

const AGGREGATES: Aggregate[] = [
  { fn: 'count' },
  { fn: 'sum', of: { field: 'x' } },
  { fn: 'avg', of: { field: 'x' } },
  { fn: 'min', of: { field: 'x' } },
  { fn: 'max', of: { field: 'x' } },
  { fn: 'count_distinct', of: { field: 'x' } },
];

describe("the accumulator's SQL twins", () => {
  it('are the text the warehouse runs', async () => {
    for (const twin of ACCUMULATOR_SQL_TWINS) {
      const result = await warehouse.raw<{ rows: { source: string }[] }>(
        'SELECT prosrc AS source FROM pg_proc WHERE oid = ?::regprocedure',
        [twin.signature],
      );
      expect(
        result.rows[0]?.source,
        `${twin.name} in the warehouse differs from services/stream/src/windowing/accumulator-sql.ts: add a migration installing it (createSqlTwin)`,
      ).toBe(twin.body);
    }
  });

  it('merge and value random accumulators as the TypeScript does', async () => {
    const random = seededRandom(20261206);
    const cases = Array.from({ length: 300 }, (_, index) => {
      const distinct = index % 3 === 0;
      return [randomAccumulator(random, distinct), randomAccumulator(random, distinct)] as const;
    });
    const result = await warehouse.raw<{
      rows: { index: number; fn: string; merged: Accumulator; value: string | null }[];
    }>(
      `SELECT c.index, f.fn, stream.merge_accumulator(c.a, c.b) AS merged,
              stream.accumulator_value(f.fn, stream.merge_accumulator(c.a, c.b)) AS value
         FROM jsonb_to_recordset(?::jsonb) AS c(index int, a jsonb, b jsonb, fns text[]),
              unnest(c.fns) AS f(fn)`,
      [
        JSON.stringify(
          cases.map(([a, b], index) => ({
            index,
            a,
            b,
            // Text measures have no min, max, sum or average (validation refuses them).
            fns: AGGREGATES.map((aggregate) => aggregate.fn).filter(
              (fn) => index % 3 !== 0 || fn === 'count' || fn === 'count_distinct',
            ),
          })),
        ),
      ],
    );
    expect(result.rows.length).toBeGreaterThan(cases.length * 3);
    for (const row of result.rows) {
      const [a, b] = cases[row.index]!;
      const merged = emptyAccumulator();
      mergeAccumulator(merged, a);
      mergeAccumulator(merged, b);
      const aggregate = AGGREGATES.find((candidate) => candidate.fn === row.fn)!;
      const expected = resultOf(aggregate, merged);
      const where = `case ${row.index}, ${row.fn}: ${JSON.stringify([a, b])}`;
      const value = row.value === null ? null : Number(row.value);
      if (expected === null) expect(value, where).toBeNull();
      else expect(value, where).toBeCloseTo(Number(expected), 9);
      expect(
        {
          rows: Number(row.merged.rows),
          measured: Number(row.merged.measured),
          sum: Number(row.merged.sum),
          values: Object.fromEntries(
            Object.entries(row.merged.values).map(([key, count]) => [key, Number(count)]),
          ),
        },
        where,
      ).toEqual(merged);
    }
  });
});
