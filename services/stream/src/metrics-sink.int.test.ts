import {
  currentContract,
  customerSessions,
  defineMetric,
  ordersPerMinute,
  primaryKeyOf,
  revenuePerMinute,
  type ChangeEvent,
  type MetricDefinition,
} from '@tidemark/contracts';
import { createDatabase, loadConfig } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { applyChanges, type BatchHistory } from './metrics-sink';
import { lockPosition, storePosition } from './positions';
import { earlierCommit, laterMark } from './row-knowledge';
import { readHeldSessions } from './held-sessions';
import { applyQueuedSessions, watermarksToEmit, writeDueSessions } from './session-store';
import { shardOf } from './shards';
import { emitAndClose } from './window-emission';
import { emitShards } from './window-emitter';
import { toLandedChange } from './landing';
import { writeLandingBatch } from './landing-sink';
import type { KeyedChange } from './windowing/plan';

// The emit policies and window closing run as SQL over the stored accumulators: checked here
// against the real warehouse, with plans written directly (no Kafka needed).

const warehouse = createDatabase(loadConfig().warehouse, 2);
const pipeline = `sink-int-${randomUUID()}`;
const MINUTE = 60_000;
const T0 = Date.parse('2030-01-01T10:00:00Z');

const ordersOnClose = defineMetric({
  ...ordersPerMinute,
  name: 'orders_on_close',
  emit: { kind: 'on_window_close' },
});
const METRICS: MetricDefinition[] = [ordersPerMinute, revenuePerMinute, ordersOnClose];
const metricsOf = () => METRICS;
// The batches come from one partition, whose topic has one: one emission shard.
const SOURCE = { topic: 'sink-int', partition: 0, shardsOf: () => 1 };
const SHARD = { topic: SOURCE.topic, shard: 0 };
// Most batches here are applied without being landed: as for a batch whose changes the changelog
// held already, their rows are known by their recorded versions (stream.row_versions), and
// every change is looked up.
const RECORDED: BatchHistory = {
  batchOffset: 0n,
  commitMark: { committedAtMs: Number.MAX_SAFE_INTEGER, lsn: null },
  alreadyLanded: true,
};
let lsn = 1;

function created(amount: number, at = T0 + 10_000, currency = 'EUR'): KeyedChange {
  lsn += 1;
  const id = randomUUID();
  const event: ChangeEvent = {
    op: 'c',
    before: null,
    after: {
      id,
      customer_id: 'c',
      amount_minor: amount,
      currency,
      status: 'paid',
      channel: null,
      created_at: new Date(at).toISOString(),
      updated_at: new Date(at).toISOString(),
    },
    source: { schema: 'shop', table: 'orders', lsn, txId: lsn, committedAtMs: at, snapshot: false },
    capturedAtMs: at,
    contractVersion: 2,
  };
  return { table: 'shop.orders', primaryKey: JSON.stringify({ id }), event };
}

async function apply(changes: KeyedChange[], watermarkMs: number | null, intervalDue = false) {
  const watermarks = new Map(METRICS.map((metric) => [metric.name, watermarkMs]));
  return warehouse.transaction(async (trx) => {
    await applyChanges(trx, pipeline, changes, metricsOf, watermarks, SOURCE, RECORDED);
    await emitShards(trx, pipeline, [{ topic: SOURCE.topic, shard: 0, metrics: METRICS }]);
    return emitAndClose(trx, pipeline, METRICS, watermarks, () => intervalDue);
  });
}

async function row(metric: string) {
  return warehouse('provisional.metric_values')
    .where({ pipeline, metric, window_start: new Date(T0) })
    .first('value', 'revision', 'pending', 'status');
}

afterAll(async () => {
  const landedPipelines = [snapshotPipeline, `${snapshotPipeline}-first`, historyPipeline];
  for (const name of [pipeline, sessionPipeline, shardedPipeline, ...landedPipelines]) {
    await warehouse('ops.consumer_offsets').where({ group_id: name }).delete();
    await warehouse('ops.late_events').where({ pipeline: name }).delete();
    await warehouse('provisional.metric_values').where({ pipeline: name }).delete();
    await warehouse('stream.window_partials').where({ pipeline: name }).delete();
    await warehouse('stream.dirty_windows').where({ pipeline: name }).delete();
    await warehouse('stream.row_versions').where({ pipeline: name }).delete();
    await warehouse('stream.session_state').where({ pipeline: name }).delete();
    await warehouse('stream.session_inbox').where({ pipeline: name }).delete();
    await warehouse('stream.watermarks').where({ pipeline: name }).delete();
  }
  await warehouse('raw.change_events')
    .whereIn('kafka_topic', [LANDED_TOPIC, `${LANDED_TOPIC}-first`, `${LANDED_TOPIC}-elsewhere`])
    .delete();
  await warehouse.destroy();
});

describe('emit policies and window closing in the warehouse', () => {
  it('emits on every update, every N seconds and on window close, then closes the window', async () => {
    await apply([created(1000), created(500)], null);
    expect(await row('orders_per_minute')).toMatchObject({
      value: '2',
      revision: 1,
      pending: false,
    });
    expect(await row('revenue_per_minute')).toMatchObject({
      value: null,
      revision: 0,
      pending: true,
    });
    expect(await row('orders_on_close')).toMatchObject({ value: null, pending: true });

    await apply([created(250)], null, true);
    expect(await row('orders_per_minute')).toMatchObject({ value: '3', revision: 2 });
    expect(await row('revenue_per_minute')).toMatchObject({
      value: '1750',
      revision: 1,
      pending: false,
    });
    expect(await row('orders_on_close')).toMatchObject({ value: null, pending: true });

    // The watermark passes the window's end: emitted on close, still open for late changes.
    await apply([], T0 + MINUTE);
    expect(await row('orders_on_close')).toMatchObject({ value: '3', revision: 1, status: 'open' });

    // A late order within the allowed lateness revises every policy's value.
    await apply([created(100)], T0 + MINUTE + 1_000);
    expect(await row('orders_on_close')).toMatchObject({ value: '4', revision: 2 });
    expect(await row('orders_per_minute')).toMatchObject({ value: '4', revision: 3 });
    expect(await row('revenue_per_minute')).toMatchObject({ value: '1750', pending: true });

    // Past end + allowed lateness the window closes, with a last emission of what was pending.
    const closing = T0 + MINUTE + ordersPerMinute.allowedLatenessMs;
    const result = await apply([], closing);
    expect(result.closed).toBe(3);
    expect(await row('revenue_per_minute')).toMatchObject({ value: '1850', status: 'closed' });
    expect(await row('orders_per_minute')).toMatchObject({ status: 'closed' });
    const stored = await warehouse('stream.watermarks')
      .where({ pipeline, metric: 'orders_on_close' })
      .first();
    expect(stored?.watermark.getTime()).toBe(closing);
  });
});

describe('the windows of several shards emitted together', () => {
  it('emits every shard it can lock in one go, and leaves one another transaction holds', async () => {
    const name = `${pipeline}-shards`;
    const byShard: string[] = [];
    for (let index = 0; byShard.length < 2; index += 1) {
      const currency = `C${index}`;
      const shard = shardOf(ordersPerMinute.name, JSON.stringify([currency]), 2);
      if (byShard[shard] === undefined) byShard[shard] = currency;
    }
    const watermarks = new Map(METRICS.map((metric) => [metric.name, null]));
    await warehouse.transaction((trx) =>
      applyChanges(
        trx,
        name,
        byShard.map((currency) => created(100, T0 + 10_000, currency)),
        () => [ordersPerMinute],
        watermarks,
        { ...SOURCE, shardsOf: () => 2 },
        RECORDED,
      ),
    );
    const shards = [0, 1].map((shard) => ({ topic: SOURCE.topic, shard, metrics: METRICS }));
    try {
      await warehouse.transaction(async (holder) => {
        expect(await emitShards(holder, name, [shards[1]!])).toEqual([1]);
        const other = await warehouse.transaction((trx) => emitShards(trx, name, shards));
        expect(other).toEqual([1, undefined]);
      });
      const rows = await warehouse('provisional.metric_values')
        .where({ pipeline: name, metric: ordersPerMinute.name })
        .orderBy('shard')
        .select('group_key', 'shard', 'value');
      expect(rows).toEqual(
        byShard.map((currency, shard) => ({
          group_key: JSON.stringify([currency]),
          shard,
          value: '1',
        })),
      );
      // Nothing is left queued, and emitting again changes nothing.
      expect(await warehouse('stream.dirty_windows').where({ pipeline: name })).toEqual([]);
      expect(await warehouse.transaction((trx) => emitShards(trx, name, shards))).toEqual([0, 0]);
    } finally {
      for (const table of ['provisional.metric_values', 'stream.window_partials']) {
        await warehouse(table).where({ pipeline: name }).delete();
      }
    }
  });
});

// Session state lives in the same transaction as the provisional values: checked here with a
// counted and a measured session metric, a transaction that dies half-way and a redelivery.
const sessionPipeline = `sink-int-sessions-${randomUUID()}`;
const revenuePerSession = defineMetric({
  ...customerSessions,
  name: 'revenue_per_session',
  aggregate: { fn: 'sum', of: { field: 'amount_minor' } },
  emit: { kind: 'on_update' },
});
const SESSION_METRICS: MetricDefinition[] = [customerSessions, revenuePerSession];
const GAP = 30 * MINUTE;

function order(
  customer: string,
  at: number,
  amount: number,
  op: 'c' | 'd' = 'c',
  id: string = randomUUID(),
) {
  lsn += 1;
  const row = {
    id,
    customer_id: customer,
    amount_minor: amount,
    currency: 'EUR',
    status: 'paid',
    channel: null,
    created_at: new Date(at).toISOString(),
    updated_at: new Date(at).toISOString(),
  };
  const event: ChangeEvent = {
    op,
    before: op === 'd' ? row : null,
    after: op === 'd' ? null : row,
    source: { schema: 'shop', table: 'orders', lsn, txId: lsn, committedAtMs: at, snapshot: false },
    capturedAtMs: at,
    contractVersion: 2,
  };
  return { table: 'shop.orders', primaryKey: JSON.stringify({ id }), event } as KeyedChange;
}

async function applySessions(
  changes: KeyedChange[],
  crash = false,
  watermarks: ReadonlyMap<string, number | null> = new Map(
    SESSION_METRICS.map((metric) => [metric.name, null]),
  ),
) {
  await warehouse
    .transaction(async (trx) => {
      await applyChanges(
        trx,
        sessionPipeline,
        changes,
        () => SESSION_METRICS,
        watermarks,
        SOURCE,
        RECORDED,
      );
      // The batch queued its session contributions; applying the queue writes the sessions.
      const applied = await applyQueuedSessions(
        trx,
        sessionPipeline,
        SHARD,
        SESSION_METRICS,
        watermarks,
      );
      expect(applied?.more).toBe(false);
      if (crash) throw new Error('killed before commit');
    })
    .catch((error: unknown) => {
      if (!crash) throw error;
    });
}

/** A customer's provisional sessions of a metric: its rows, and those held until due. */
async function sessions(metric: string, customer: string) {
  const rows = await sessionRows(metric, customer);
  const held = await readHeldSessions(
    warehouse,
    sessionPipeline,
    SESSION_METRICS.filter((each) => each.name === metric),
    { groupKeyPrefix: JSON.stringify([customer]) },
  );
  return [
    ...rows,
    ...held.map((session) => ({
      window_start: session.windowStart,
      window_end: session.windowEnd,
      accumulator: session.accumulator,
    })),
  ]
    .sort((a, b) => new Date(a.window_start).getTime() - new Date(b.window_start).getTime())
    .map((row) => [
      new Date(row.window_start).getTime() - T0,
      new Date(row.window_end).getTime() - T0,
      metric === 'customer_sessions' ? row.accumulator.rows : row.accumulator.sum,
    ]);
}

/** A customer's rows of a session metric. */
async function sessionRows(metric: string, customer: string) {
  return (await warehouse('provisional.metric_values')
    .where({ pipeline: sessionPipeline, metric, group_key: JSON.stringify([customer]) })
    .orderBy('window_start')
    .select('window_start', 'window_end', 'accumulator', 'pending', 'revision', 'value')) as {
    window_start: Date;
    window_end: Date;
    accumulator: { rows: number; sum: number };
    pending: boolean;
    revision: number;
    value: string | null;
  }[];
}

describe('session windows in the warehouse', () => {
  it('merges, splits and stores sessions once, whatever dies or comes twice', async () => {
    const customer = `sink-int-${randomUUID()}`;
    const first = order(customer, T0, 100);
    const bridge = order(customer, T0 + 20 * MINUTE, 200);
    const last = order(customer, T0 + 40 * MINUTE, 400);
    await applySessions([first, last]);
    expect(await sessions('customer_sessions', customer)).toEqual([
      [0, GAP, 1],
      [40 * MINUTE, 40 * MINUTE + GAP, 1],
    ]);

    // A transaction that dies after writing leaves neither the sessions nor their state behind.
    await applySessions([bridge], true);
    expect(await sessions('revenue_per_session', customer)).toEqual([
      [0, GAP, 100],
      [40 * MINUTE, 40 * MINUTE + GAP, 400],
    ]);

    // The bridging order merges both sessions; delivered again, it changes nothing.
    await applySessions([bridge]);
    await applySessions([bridge]);
    expect(await sessions('customer_sessions', customer)).toEqual([[0, 40 * MINUTE + GAP, 3]]);
    expect(await sessions('revenue_per_session', customer)).toEqual([[0, 40 * MINUTE + GAP, 700]]);
    const state = await warehouse('stream.session_state')
      .where({ pipeline: sessionPipeline, metric: 'revenue_per_session' })
      .first('event_times', 'measures');
    expect(state).toEqual({
      event_times: [String(T0), String(T0 + 20 * MINUTE), String(T0 + 40 * MINUTE)],
      measures: [100, 200, 400],
    });

    // What a batch queues is applied by one applier of its shard at a time, and once.
    const watermarks = new Map(SESSION_METRICS.map((metric) => [metric.name, null]));
    const later = order(customer, T0 + 45 * MINUTE, 500);
    await warehouse.transaction((trx) =>
      applyChanges(
        trx,
        sessionPipeline,
        [later],
        () => SESSION_METRICS,
        watermarks,
        SOURCE,
        RECORDED,
      ),
    );
    await warehouse.transaction(async (first) => {
      const applied = await applyQueuedSessions(
        first,
        sessionPipeline,
        SHARD,
        SESSION_METRICS,
        watermarks,
      );
      expect(applied).toMatchObject({ batches: 1, inputs: 2, more: false });
      const other = await warehouse.transaction((second) =>
        applyQueuedSessions(second, sessionPipeline, SHARD, SESSION_METRICS, watermarks),
      );
      expect(other).toBeUndefined();
    });
    const again = await warehouse.transaction((trx) =>
      applyQueuedSessions(trx, sessionPipeline, SHARD, SESSION_METRICS, watermarks),
    );
    expect(again).toMatchObject({ batches: 0, inputs: 0 });
    expect(await sessions('customer_sessions', customer)).toEqual([[0, 45 * MINUTE + GAP, 4]]);
    await applySessions([
      order(customer, T0 + 45 * MINUTE, 500, 'd', JSON.parse(later.primaryKey).id),
    ]);

    // Deleting the bridge splits the session again.
    const id = JSON.parse(bridge.primaryKey).id as string;
    await applySessions([order(customer, T0 + 20 * MINUTE, 200, 'd', id)]);
    expect(await sessions('revenue_per_session', customer)).toEqual([
      [0, GAP, 100],
      [40 * MINUTE, 40 * MINUTE + GAP, 400],
    ]);
  });

  it('judges queued contributions by the watermark of their batch, and holds sessions back to it', async () => {
    const customer = `sink-int-${randomUUID()}`;
    const at = (ms: number) => new Map(SESSION_METRICS.map((metric) => [metric.name, ms]));
    // Batched while the order's session was open...
    await warehouse.transaction((trx) =>
      applyChanges(
        trx,
        sessionPipeline,
        [order(customer, T0, 100)],
        () => SESSION_METRICS,
        at(T0),
        SOURCE,
        RECORDED,
      ),
    );
    // ...and applied when the watermark is three hours on, where it would be late.
    const now = at(T0 + 180 * MINUTE);
    const held = await warehouse.transaction((trx) =>
      watermarksToEmit(trx, sessionPipeline, SESSION_METRICS, now),
    );
    expect(held.get('customer_sessions')).toBe(T0);
    const applied = await warehouse.transaction((trx) =>
      applyQueuedSessions(trx, sessionPipeline, SHARD, SESSION_METRICS, now),
    );
    expect(applied).toMatchObject({ batches: 1, late: [] });
    expect(await sessions('customer_sessions', customer)).toEqual([[0, GAP, 1]]);
    const released = await warehouse.transaction((trx) =>
      watermarksToEmit(trx, sessionPipeline, SESSION_METRICS, now),
    );
    expect(released.get('customer_sessions')).toBe(T0 + 180 * MINUTE);
  });

  it("writes an on_window_close session's row when due, and emits it; an on_update one's at once", async () => {
    const customer = `sink-int-${randomUUID()}`;
    const at = (ms: number | null) => new Map(SESSION_METRICS.map((metric) => [metric.name, ms]));
    await applySessions([order(customer, T0, 100), order(customer, T0 + 10 * MINUTE, 50)]);
    // Open: customer_sessions holds it in the key's state alone; revenue_per_session has its row.
    expect(await sessionRows('customer_sessions', customer)).toEqual([]);
    expect(await sessions('customer_sessions', customer)).toEqual([[0, 10 * MINUTE + GAP, 2]]);
    expect(await sessions('revenue_per_session', customer)).toEqual([[0, 10 * MINUTE + GAP, 150]]);
    const state = () =>
      warehouse('stream.session_state')
        .where({ pipeline: sessionPipeline, metric: 'customer_sessions' })
        .where('group_key', JSON.stringify([customer]))
        .first('shard', 'rows_until_ms', 'due_from_ms');
    expect(await state()).toEqual({
      shard: SHARD.shard,
      rows_until_ms: '-9223372036854775808',
      due_from_ms: String(T0 + 10 * MINUTE + GAP),
    });

    // The tick before the session's end writes nothing; at its end, the row, then its emission.
    const tick = (watermarkMs: number) =>
      warehouse.transaction(async (trx) => {
        const due = await writeDueSessions(
          trx,
          sessionPipeline,
          SHARD,
          customerSessions,
          watermarkMs,
        );
        await emitAndClose(trx, sessionPipeline, SESSION_METRICS, at(watermarkMs), () => false);
        return due;
      });
    // (Other tests' customers of the pipeline may be due at the same ticks.)
    expect(await tick(T0 + 10 * MINUTE + GAP - 1)).toBeDefined();
    expect(await sessionRows('customer_sessions', customer)).toEqual([]);
    expect(await tick(T0 + 10 * MINUTE + GAP)).toMatchObject({ more: false });
    expect(await sessionRows('customer_sessions', customer)).toEqual([
      expect.objectContaining({ pending: false, revision: 1, value: '2' }),
    ]);
    expect(await state()).toMatchObject({ due_from_ms: null });
    expect(await sessions('customer_sessions', customer)).toEqual([[0, 10 * MINUTE + GAP, 2]]);

    // A contribution within the lateness revises the published session at once.
    await applySessions([order(customer, T0 + 5 * MINUTE, 10)], false, at(T0 + 10 * MINUTE + GAP));
    await tick(T0 + 10 * MINUTE + GAP);
    expect(await sessionRows('customer_sessions', customer)).toEqual([
      expect.objectContaining({ pending: false, revision: 2, value: '3' }),
    ]);
  });

  it('refuses the session state of a stream older than rows written when due', async () => {
    const customer = `sink-int-${randomUUID()}`;
    await applySessions([order(customer, T0, 100)]);
    // The upsert a stream before migration 0025 runs: it knows nothing of the rows' bound.
    const older = warehouse.raw(
      `INSERT INTO stream.session_state AS s (pipeline, metric, group_key, key_values,
           event_times, measures, closed_until_ms)
         VALUES (?, 'customer_sessions', ?, ?::jsonb, ?::bigint[], NULL, NULL)
       ON CONFLICT (pipeline, metric, group_key) DO UPDATE
         SET event_times = excluded.event_times, measures = excluded.measures,
             closed_until_ms = excluded.closed_until_ms`,
      [sessionPipeline, JSON.stringify([customer]), JSON.stringify([customer]), [T0, T0 + 1]],
    );
    await expect(older).rejects.toThrow(/rows_until_ms/);
    expect(await sessions('customer_sessions', customer)).toEqual([[0, GAP, 1]]);
  });

  it('leaves queued batches of a metric it lacks for a consumer that computes it', async () => {
    const customer = `sink-int-${randomUUID()}`;
    const watermarks = new Map(SESSION_METRICS.map((metric) => [metric.name, null]));
    // Queued by a version of the pipeline computing both session metrics...
    await warehouse.transaction((trx) =>
      applyChanges(
        trx,
        sessionPipeline,
        [order(customer, T0, 100)],
        () => SESSION_METRICS,
        watermarks,
        SOURCE,
        RECORDED,
      ),
    );
    // ...met by one that computes only the first: it applies nothing and deletes nothing.
    const older = SESSION_METRICS.slice(0, 1);
    const held = await warehouse.transaction((trx) =>
      applyQueuedSessions(trx, sessionPipeline, SHARD, older, watermarks),
    );
    expect(held).toMatchObject({ batches: 0, inputs: 0, more: false });
    expect(held?.heldBackBy).toEqual([SESSION_METRICS[1]?.name]);
    expect(
      await warehouse('stream.session_inbox').where({ pipeline: sessionPipeline }),
    ).toHaveLength(1);
    // The version computing both applies it.
    const applied = await warehouse.transaction((trx) =>
      applyQueuedSessions(trx, sessionPipeline, SHARD, SESSION_METRICS, watermarks),
    );
    expect(applied).toMatchObject({ batches: 1, heldBackBy: [] });
    expect(await sessions('revenue_per_session', customer)).toEqual([[0, GAP, 100]]);
  });

  it("queues by the key's shard, and each shard's owner applies its own beside the others", async () => {
    const [onFirst, onSecond] = customersOnShards();
    await queueSharded([
      order(onFirst, T0, 100),
      order(onSecond, T0, 200),
      order(onFirst, T0 + MINUTE, 300),
    ]);
    const queued = await warehouse('stream.session_inbox')
      .where({ pipeline: shardedPipeline })
      .orderBy('shard')
      .select('topic', 'shard', 'inputs');
    expect(queued.map((row) => [row.topic, row.shard, row.inputs.length])).toEqual([
      [SOURCE.topic, 0, 2],
      [SOURCE.topic, 1, 1],
    ]);
    await warehouse.transaction(async (first) => {
      expect(await applySharded(first, 0)).toMatchObject({ batches: 1, inputs: 2, more: false });
      // While shard 0 is being applied, shard 1 is applied beside it, and shard 0 by no one else.
      const beside = await warehouse.transaction((second) => applySharded(second, 1));
      expect(beside).toMatchObject({ batches: 1, inputs: 1 });
      expect(await warehouse.transaction((third) => applySharded(third, 0))).toBeUndefined();
    });
    const rows = await warehouse('provisional.metric_values')
      .where({ pipeline: shardedPipeline })
      .orderBy('shard')
      .select('group_key', 'shard', 'accumulator');
    expect(rows.map((row) => [row.group_key, row.shard, row.accumulator.rows])).toEqual([
      [JSON.stringify([onFirst]), 0, 2],
      [JSON.stringify([onSecond]), 1, 1],
    ]);
  });

  it('applies contributions queued before sessions were sharded first, whole', async () => {
    const [onFirst, onSecond] = customersOnShards();
    // Queued by a version that did not shard: one row, no topic, no shard.
    await queueSharded([order(onFirst, T0, 1), order(onSecond, T0, 1)]);
    const legacy = await warehouse('stream.session_inbox')
      .where({ pipeline: shardedPipeline })
      .orderBy('id')
      .select('id', 'inputs', 'watermarks');
    await warehouse('stream.session_inbox').where({ pipeline: shardedPipeline }).delete();
    await warehouse('stream.session_inbox').insert({
      pipeline: shardedPipeline,
      inputs: JSON.stringify(legacy.flatMap((row) => row.inputs)),
      watermarks: JSON.stringify(legacy[0]?.watermarks),
    });
    // Then one that does, on the same keys.
    await queueSharded([order(onFirst, T0 + MINUTE, 1), order(onSecond, T0 + MINUTE, 1)]);
    const applyShard = (shard: number) => warehouse.transaction((trx) => applySharded(trx, shard));
    // The owner of shard 1 comes first: it applies the unsharded row for both shards' keys...
    expect(await applyShard(1)).toMatchObject({ batches: 1, inputs: 2, more: true });
    const value = async (customer: string) =>
      (
        await warehouse('provisional.metric_values')
          .where({ pipeline: shardedPipeline, group_key: JSON.stringify([customer]) })
          .first('accumulator')
      )?.accumulator.rows;
    expect([await value(onFirst), await value(onSecond)]).toEqual([1, 1]);
    // ...then each shard its own.
    expect(await applyShard(1)).toMatchObject({ batches: 1, inputs: 1, more: false });
    expect(await applyShard(0)).toMatchObject({ batches: 1, inputs: 1, more: false });
    expect([await value(onFirst), await value(onSecond)]).toEqual([2, 2]);
    expect(await warehouse('stream.session_inbox').where({ pipeline: shardedPipeline })).toEqual(
      [],
    );
  });
});

// Two emission shards: customers whose session keys fall on each.
const shardedPipeline = `sink-int-sharded-${randomUUID()}`;
const TWO_SHARDS = { topic: SOURCE.topic, partition: 0, shardsOf: () => 2 };
const NO_WATERMARK = new Map<string, number | null>([[customerSessions.name, null]]);
// Emitted on update, so each applied session has its row at once (on window close, its row
// would wait until due): these tests are about who applies what.
const shardedSessions = defineMetric({ ...customerSessions, emit: { kind: 'on_update' } });

/** Lands a batch of customer_sessions changes in the sharded pipeline: queued by two shards. */
function queueSharded(changes: KeyedChange[]) {
  return warehouse.transaction((trx) =>
    applyChanges(
      trx,
      shardedPipeline,
      changes,
      () => [shardedSessions],
      NO_WATERMARK,
      TWO_SHARDS,
      RECORDED,
    ),
  );
}

/** Applies one shard's queued session contributions of the sharded pipeline. */
function applySharded(trx: Knex.Transaction, shard: number) {
  return applyQueuedSessions(
    trx,
    shardedPipeline,
    { topic: SOURCE.topic, shard },
    [shardedSessions],
    NO_WATERMARK,
  );
}

/** A new customer on shard 0 and one on shard 1 of `customer_sessions`. */
function customersOnShards(): [string, string] {
  const found: (string | undefined)[] = [undefined, undefined];
  while (found.includes(undefined)) {
    const customer = `sink-int-${randomUUID()}`;
    found[shardOf(customerSessions.name, JSON.stringify([customer]), 2)] ??= customer;
  }
  return found as [string, string];
}

// A snapshot read of a row the pipeline applied is an update from the row's last image, which
// the sink reads back from the raw changelog the pipeline landed it in.
const snapshotPipeline = `sink-int-snapshot-${randomUUID()}`;
// The changelog is where the pipelines below know their rows from: its rows of this topic.
const LANDED_TOPIC = `sink-int-landed-${randomUUID()}`;
let nextOffset = 0n;

/**
 * Lands changes in the raw changelog at the next offsets of a topic (LANDED_TOPIC), stores
 * the partition's position, then applies them, in one transaction as the pipeline does
 * (`partition-batch.ts`).
 */
async function landAndApply(name: string, changes: KeyedChange[], topic = LANDED_TOPIC) {
  const contract = currentContract('shop.orders');
  const watermarks = new Map(METRICS.map((metric) => [metric.name, null]));
  const at = changes.map(() => (nextOffset += 1n));
  const source = { ...SOURCE, topic };
  await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [
    ['2029-12-29', '2030-01-01'],
  ]);
  await warehouse.transaction(async (trx) => {
    const landed = changes.map(({ event }, index) =>
      toLandedChange(event, contract ? primaryKeyOf(event, contract) : null, {
        topic,
        partition: 0,
        offset: String(at[index]),
        timestamp: String(event.capturedAtMs),
      }),
    );
    const landing = await writeLandingBatch(trx, landed, []);
    const stored = await lockPosition(trx, name, topic, 0);
    const batchOffset = at[0] as bigint;
    await storePosition(trx, name, topic, 0, {
      nextOffset: (at.at(-1) as bigint) + 1n,
      firstOffset: stored?.firstOffset ?? batchOffset,
      commitMark: laterMark(changes, stored?.commitMark),
      earliestCommitMs: earlierCommit(changes, stored?.earliestCommitMs),
      maxEventTimeMs: undefined,
    });
    await applyChanges(trx, name, changes, metricsOf, watermarks, source, {
      batchOffset,
      commitMark: stored?.commitMark,
      alreadyLanded: landing.alreadyLanded,
    });
    await emitShards(trx, name, [{ topic, shard: 0, metrics: METRICS }]);
  });
}

/** A later change of the same row: `op`, with its after-image changed by `fields`. */
function laterChange(
  change: KeyedChange,
  op: 'u' | 'r',
  fields: Record<string, unknown>,
  source: Partial<ChangeEvent['source']>,
): KeyedChange {
  lsn += 1;
  const { event } = change;
  return {
    ...change,
    event: {
      ...event,
      op,
      before: op === 'u' ? event.after : null,
      after: { ...event.after, ...fields },
      source: { ...event.source, lsn, ...source },
    },
  };
}

/** The row read again by a snapshot, with `fields` changed meanwhile. */
const reread = (change: KeyedChange, fields: Record<string, unknown>) =>
  laterChange(change, 'r', fields, { snapshot: true });

async function valuesOf(name: string, at: number) {
  const rows = await warehouse('provisional.metric_values')
    .where({ pipeline: name, window_start: new Date(at) })
    .select('metric', 'accumulator');
  return Object.fromEntries(
    rows.map((row) => [row.metric, [row.accumulator.rows, row.accumulator.sum]]),
  );
}

describe('snapshot reads in the warehouse', () => {
  it('counts a re-read row once, with its new image', async () => {
    const at = T0 + 7 * MINUTE;
    const changed = created(500, at + 1_000);
    const same = created(300, at + 2_000);
    await landAndApply(snapshotPipeline, [changed, same]);

    // The connector snapshots every row again; `changed` was updated while nothing was captured.
    await landAndApply(snapshotPipeline, [
      reread(changed, { amount_minor: 700 }),
      reread(same, {}),
    ]);

    expect(await valuesOf(snapshotPipeline, at)).toMatchObject({
      orders_per_minute: [2, 0],
      revenue_per_minute: [2, 700 + 300],
    });
  });

  it('keeps out a re-read row known only by its recorded version whose image is gone', async () => {
    const at = T0 + 8 * MINUTE;
    const forgotten = created(200, at + 3_000);
    // Landed first from another topic: this pipeline knows the row by its record.
    await landAndApply(`${snapshotPipeline}-first`, [forgotten], `${LANDED_TOPIC}-first`);
    await landAndApply(snapshotPipeline, [forgotten]);
    // The landed change is gone, as when its day's partition is dropped by hand.
    await warehouse('raw.change_events')
      .where({ source_table: 'shop.orders', lsn: forgotten.event.source.lsn })
      .delete();

    await landAndApply(snapshotPipeline, [reread(forgotten, { amount_minor: 900 })]);

    expect(await valuesOf(snapshotPipeline, at)).toMatchObject({
      orders_per_minute: [1, 0],
      revenue_per_minute: [1, 200],
    });
    const kept = await warehouse('ops.late_events')
      .where({ pipeline: snapshotPipeline, metric: 'revenue_per_minute' })
      .select('reason', 'op', 'sign', 'primary_key');
    expect(kept).toEqual([
      { reason: 'snapshot_unverified', op: 'r', sign: 1, primary_key: forgotten.primaryKey },
    ]);
  });
});

// What a pipeline has applied of a row is read from the changelog's rows of the offsets it read.
const historyPipeline = `sink-int-history-${randomUUID()}`;

/** The row updated a millisecond later. */
const updated = (change: KeyedChange, fields: Record<string, unknown>) =>
  laterChange(change, 'u', fields, { committedAtMs: change.event.source.committedAtMs + 1 });

describe("a row's history read from the changelog", () => {
  it('retracts what an update replaces, skips a change sent again, and knows only what it read', async () => {
    const at = T0 + 9 * MINUTE;
    const first = created(1_000, at + 1_000);
    await landAndApply(historyPipeline, [first]);
    // Updated: its insert, read at an earlier offset, is retracted.
    const second = updated(first, { amount_minor: 1_500 });
    await landAndApply(historyPipeline, [second]);
    expect(await valuesOf(historyPipeline, at)).toMatchObject({
      orders_per_minute: [1, 0],
      revenue_per_minute: [1, 1_500],
    });
    // Debezium sends the insert and the update again at later offsets: both are skipped.
    await landAndApply(historyPipeline, [first, second]);
    expect(await valuesOf(historyPipeline, at)).toMatchObject({
      revenue_per_minute: [1, 1_500],
    });
    // A row whose insert another topic carried (this pipeline never read it): its update has
    // nothing to retract, and counts from the update on.
    const elsewhere = created(400, at + 2_000);
    const contract = currentContract('shop.orders');
    await writeLandingBatch(
      warehouse,
      [
        toLandedChange(elsewhere.event, contract ? primaryKeyOf(elsewhere.event, contract) : null, {
          topic: `${LANDED_TOPIC}-elsewhere`,
          partition: 0,
          offset: '0',
          timestamp: String(elsewhere.event.capturedAtMs),
        }),
      ],
      [],
    );
    await landAndApply(historyPipeline, [updated(elsewhere, { amount_minor: 600 })]);
    expect(await valuesOf(historyPipeline, at)).toMatchObject({
      orders_per_minute: [2, 0],
      revenue_per_minute: [2, 1_500 + 600],
    });
  });

  it('finds a row last changed days before, past the recent days looked up first', async () => {
    const at = T0 - 3 * 86_400_000;
    const old = created(700, at + 1_000);
    await landAndApply(historyPipeline, [old]);
    // Updated three days later: its insert is in an older day of the changelog.
    await landAndApply(historyPipeline, [
      laterChange(old, 'u', { amount_minor: 900 }, { committedAtMs: T0 + 10 * MINUTE }),
    ]);
    expect(await valuesOf(historyPipeline, at)).toMatchObject({
      orders_per_minute: [1, 0],
      revenue_per_minute: [1, 900],
    });
  });
});
