import { customerSessions, METRICS } from '@tidemark/contracts';
import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeldSessions } from './held-sessions';
import { startStreamPipeline } from './metrics-pipeline';
import type { BatchStats, StreamPipeline, StreamPipelineOptions } from './pipeline-options';
import { resetPipeline } from './pipeline-reset';
import { lastAppliedVersions } from './row-knowledge';
import { rowId } from './windowing/plan';

const config = loadConfig();
const source = createDatabase(config.source, 2);
// Event time truncated to milliseconds by PostgreSQL, as the stream and the final SQL see it.
const MS_CREATED_AT = source.raw("date_trunc('milliseconds', created_at) AS created_at");
const warehouse = createDatabase(config.warehouse, 4);
const prefix = config.kafka.topicPrefix;
const topics = new Map([
  ['shop.orders', `${prefix}.shop.orders`],
  ['shop.payments', `${prefix}.shop.payments`],
]);
const MINUTE = 60_000;

// Each run has its own pipeline (consumer group and warehouse key), customers and currency, so
// its provisional values are its own whatever else runs on the stack; the source rows it expects
// are its customers' (another run may have drawn the same random currency).
const pipeline = `stream-int-${randomUUID()}`;
const currency = Array.from({ length: 3 }, () =>
  String.fromCharCode(65 + Math.floor(Math.random() * 26)),
).join('');

let stream: StreamPipeline | undefined;
const kafka = createKafka(config, `${pipeline}-test`, silentLogger);
const ordersTopic = `${prefix}.shop.orders`;
let startMarks = new Map<number, bigint>();

/** The orders (of those given) a pipeline has applied. */
async function appliedOrders(name: string, ids: readonly string[]): Promise<Set<string>> {
  const key = (id: string) => ({ table: 'shop.orders', primaryKey: JSON.stringify({ id }) });
  const versions = await lastAppliedVersions(warehouse, name, ids.map(key));
  return new Set(ids.filter((id) => versions.has(rowId('shop.orders', key(id).primaryKey))));
}

async function highMarks(): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(ordersTopic);
    return new Map(offsets.map((offset) => [offset.partition, BigInt(offset.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** The orders topic's messages between two sets of marks, read by a throwaway consumer. */
async function readRange(from: Map<number, bigint>, to: Map<number, bigint>) {
  const wanted = [...to].filter(([partition, end]) => end > (from.get(partition) ?? end));
  const messages: { partition: number; key: Buffer | null; value: Buffer | null }[] = [];
  if (wanted.length === 0) return messages;
  const consumer = kafka.consumer({ groupId: `${pipeline}-reader-${randomUUID()}` });
  const remaining = new Set(wanted.map(([partition]) => partition));
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [ordersTopic], fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const end = to.get(partition) ?? 0n;
      const offset = BigInt(message.offset);
      if (offset < end && offset >= (from.get(partition) ?? 0n)) {
        messages.push({ partition, key: message.key, value: message.value });
      }
      if (offset + 1n >= end && remaining.delete(partition) && remaining.size === 0) finish();
    },
  });
  for (const [partition] of wanted) {
    consumer.seek({ topic: ordersTopic, partition, offset: String(from.get(partition) ?? 0n) });
  }
  await finished;
  await consumer.disconnect();
  return messages;
}

async function start(
  name = pipeline,
  startAt: 'earliest' | 'latest' = 'latest',
  more: Partial<StreamPipelineOptions> = {},
): Promise<StreamPipeline> {
  const started = await startStreamPipeline({
    kafka: createKafka(config, name, silentLogger),
    warehouse,
    logger: silentLogger,
    pipeline: name,
    topics,
    heartbeatTopic: `${prefix}.heartbeat.${prefix}`,
    metrics: METRICS,
    startAt,
    idleTimeoutMs: 1_000,
    tickMs: 200,
    sessionTimeoutMs: 10_000,
    ...more,
  });
  await started.joined;
  return started;
}

interface OrderRow {
  id: string;
  amount_minor: string;
  status: string;
  created_at: Date;
}

async function insertOrders(count: number, createdAt?: Date): Promise<OrderRow[]> {
  const rows = Array.from({ length: count }, (_, index) => ({
    customer_id: `${pipeline}-${index % 3}`,
    amount_minor: 1000 + index * 10,
    currency,
    status: index % 4 === 0 ? 'pending' : 'paid',
    ...(createdAt ? { created_at: createdAt } : {}),
  }));
  return source('shop.orders')
    .insert(rows)
    .returning(['id', 'amount_minor', 'status', 'created_at']);
}

/** orders_per_minute and revenue_per_minute of this run's currency, straight from the source table. */
async function expectedFromSource(excludedIds: readonly string[]) {
  const rows = (await source('shop.orders')
    .where({ currency })
    .whereLike('customer_id', `${pipeline}-%`)
    .whereNotIn('id', [...excludedIds])
    .select('amount_minor', 'status', MS_CREATED_AT)) as OrderRow[];
  const count = new Map<number, number>();
  const revenue = new Map<number, number>();
  for (const row of rows) {
    const window = Math.floor(row.created_at.getTime() / MINUTE) * MINUTE;
    if (row.status !== 'cancelled') count.set(window, (count.get(window) ?? 0) + 1);
    if (row.status !== 'cancelled' && row.status !== 'refunded') {
      revenue.set(window, (revenue.get(window) ?? 0) + Number(row.amount_minor));
    }
  }
  return { count, revenue };
}

async function provisional(metric: string): Promise<Map<number, number>> {
  const rows = await warehouse('provisional.metric_values')
    .where({ pipeline, metric, group_key: JSON.stringify([currency]) })
    .whereNotNull('value')
    .select('window_start', 'value');
  return new Map(
    rows
      .filter((row) => Number(row.value) !== 0)
      .map((row) => [new Date(row.window_start).getTime(), Number(row.value)]),
  );
}

async function waitForProvisionalToMatch(excludedIds: readonly string[]) {
  return waitFor(
    `provisional values of ${currency} to match the source table`,
    async () => {
      const expected = await expectedFromSource(excludedIds);
      const [count, revenue] = await Promise.all([
        provisional('orders_per_minute'),
        provisional('revenue_per_minute'),
      ]);
      const same = (a: Map<number, number>, b: Map<number, number>) =>
        a.size === b.size && [...a].every(([window, value]) => b.get(window) === value);
      return same(count, expected.count) && same(revenue, expected.revenue)
        ? { count, revenue }
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

beforeAll(async () => {
  stream = await start();
  startMarks = await highMarks();
});

afterAll(async () => {
  await stream?.stop();
  for (const suffix of ['', '-second', '-third', '-fourth']) {
    const name = `${pipeline}${suffix}`;
    await resetPipeline(warehouse, kafka, name);
  }
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

describe('the stream pipeline on the live stack', () => {
  const lateIds: string[] = [];

  it('keeps provisional values equal to the source through inserts, updates, deletes and moves', async () => {
    const orders = await insertOrders(12);
    const [first, second, third, fourth, fifth] = orders as [
      OrderRow,
      OrderRow,
      OrderRow,
      OrderRow,
      OrderRow,
    ];
    await source('shop.orders').where({ id: first.id }).update({ status: 'cancelled' });
    await source('shop.orders').where({ id: second.id }).update({ amount_minor: 99_999 });
    await source('shop.orders').where({ id: third.id }).update({ status: 'refunded' });
    await source('shop.orders').whereIn('id', [fourth.id]).delete();
    // An event-time change moves the order's contribution to another window.
    await source('shop.orders')
      .where({ id: fifth.id })
      .update({ created_at: new Date(fifth.created_at.getTime() - 2 * MINUTE) });
    // A duplicated business operation: the same update twice changes nothing the second time.
    await source('shop.orders').where({ id: second.id }).update({ amount_minor: 99_999 });

    const matched = await waitForProvisionalToMatch([]);
    expect([...matched.count.values()].reduce((a, b) => a + b, 0)).toBe(10);

    // Sessions (30-minute gap, emitted on close) hold every order of each customer so far: open,
    // they are held in their keys' state, their rows written when due.
    const perCustomer = await source('shop.orders')
      .where({ currency })
      .whereLike('customer_id', `${pipeline}-%`)
      .groupBy('customer_id')
      .select('customer_id', source.raw('count(*)::int as orders'));
    const sessions = await waitFor(
      'one open session per customer with all its orders',
      async () => {
        const customers = new Set(perCustomer.map((row) => JSON.stringify([row.customer_id])));
        const written = await warehouse('provisional.metric_values')
          .where({ pipeline, metric: 'customer_sessions' })
          .whereIn('group_key', [...customers]);
        const held = await readHeldSessions(warehouse, pipeline, [customerSessions], {
          groupKeyPrefix: `["${pipeline}-`,
        });
        const rows = held.filter((session) => customers.has(session.groupKey));
        if (written.length > 0) throw new Error('an open session has a row before it is due');
        const counts = new Map(rows.map((row) => [row.groupKey, row.accumulator.rows]));
        return perCustomer.every(
          (row) => counts.get(JSON.stringify([row.customer_id])) === row.orders,
        ) && rows.length === perCustomer.length
          ? rows
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(sessions).toHaveLength(3);

    // The raw changelog keeps every change with its row images, in LSN order.
    const landed = await warehouse('raw.change_events')
      .where({ source_table: 'shop.orders' })
      .whereRaw("primary_key->>'id' = ?", [fourth.id])
      .orderBy('lsn');
    expect(landed.map((row) => row.op)).toEqual(['c', 'd']);
    expect(landed[0]).toMatchObject({ contract_version: 2, after: { id: fourth.id, currency } });
    expect(landed[1]).toMatchObject({ after: null, before: { id: fourth.id, currency } });
    const revisions = await warehouse('provisional.metric_values')
      .where({ pipeline, metric: 'orders_per_minute', group_key: JSON.stringify([currency]) })
      .max('revision as revision')
      .first();
    expect(Number(revisions?.revision)).toBeGreaterThanOrEqual(1);
  });

  it('ignores the changes Debezium redelivers, by row and LSN', async () => {
    // Debezium resends what it had not flushed when it restarts: the same envelopes again.
    const redelivered = (await readRange(startMarks, await highMarks())).filter((message) =>
      message.value?.toString('utf8').includes(`"currency":"${currency}"`),
    );
    expect(redelivered.length).toBeGreaterThan(10);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: ordersTopic,
      messages: redelivered.map(({ partition, key, value }) => ({ partition, key, value })),
    });
    await producer.disconnect();
    const ends = await highMarks();
    await waitFor(
      'the pipeline to read the redelivered changes',
      async () => {
        const stored = await warehouse('ops.consumer_offsets').where({
          group_id: pipeline,
          topic: ordersTopic,
        });
        return (
          [...ends].every(([partition, end]) => {
            const row = stored.find((candidate) => candidate.partition === partition);
            return end === 0n || (row !== undefined && BigInt(row.next_offset) >= end);
          }) || undefined
        );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await waitForProvisionalToMatch([]);
    const landed = await warehouse('raw.change_events')
      .where({ source_table: 'shop.orders' })
      .whereRaw("coalesce(after, before)->>'currency' = ?", [currency])
      .count({ n: '*' })
      .first();
    expect(Number(landed?.n)).toBe(redelivered.length);
  });

  it('records events later than the allowed lateness in the late ledger, not in the values', async () => {
    await waitFor(
      'the orders watermark',
      async () => (stream?.watermarks().get('orders_per_minute') ?? null) !== null || undefined,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const late = await insertOrders(2, new Date(Date.now() - 60 * MINUTE));
    lateIds.push(...late.map((order) => order.id));
    await waitForProvisionalToMatch(lateIds);
    const ledger = await waitFor(
      'the late orders in the ledger',
      async () => {
        const rows = await warehouse('ops.late_events')
          .where({ pipeline, metric: 'orders_per_minute', group_key: JSON.stringify([currency]) })
          .select('primary_key', 'reason', 'sign');
        return rows.length >= 2 ? rows : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(ledger.map((row) => JSON.parse(row.primary_key).id).sort()).toEqual([...lateIds].sort());
    expect(new Set(ledger.map((row) => row.reason))).toEqual(new Set(['late_beyond_lateness']));
  });

  it("writes an open session's row once the watermark passes its end, and emits it", async () => {
    // An order whose session (30-minute gap) ends in 8 seconds: applied while open, it has no
    // row; the watermark passes its end as newer orders arrive, and the tick writes and emits it.
    const [opening] = await source('shop.orders')
      .insert({
        customer_id: `${pipeline}-due`,
        amount_minor: 700,
        currency,
        status: 'paid',
        created_at: new Date(Date.now() - 30 * MINUTE + 8_000),
      })
      .returning(['id', 'created_at']);
    lateIds.push(opening.id); // late for the minutes, not for sessions (30 minutes of lateness)
    const group = JSON.stringify([`${pipeline}-due`]);
    const emitted = () =>
      warehouse('provisional.metric_values')
        .where({ pipeline, metric: 'customer_sessions', group_key: group })
        .first('window_start', 'window_end', 'value', 'pending', 'revision');
    await waitFor(
      'the open session held in its state',
      async () =>
        (await readHeldSessions(warehouse, pipeline, [customerSessions], { groupKeyPrefix: group }))
          .length === 1 || undefined,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(await emitted()).toBeUndefined();
    const row = await waitFor(
      "the due session's emitted row",
      async () => {
        await insertOrders(1); // moves the watermark on
        const found = await emitted();
        return found && found.revision > 0 ? found : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 1_000 },
    );
    expect(row).toMatchObject({ value: '1', pending: false, revision: 1 });
    const startMs = new Date(opening.created_at).getTime();
    expect(new Date(row.window_start).getTime()).toBe(startMs);
    expect(new Date(row.window_end).getTime()).toBe(startMs + 30 * MINUTE);
    expect(
      await warehouse('stream.session_state')
        .where({ pipeline, metric: 'customer_sessions', group_key: group })
        .first('due_from_ms'),
    ).toEqual({ due_from_ms: null });
  });

  it('dead-letters a poison row and keeps going', async () => {
    const [poison] = await source('shop.orders')
      .insert({
        customer_id: 'stream-int-poison',
        amount_minor: 5,
        currency: 'euro',
        status: 'paid',
      })
      .returning('id');
    await insertOrders(2);
    await waitForProvisionalToMatch(lateIds);
    const deadLetter = await waitFor(
      'the poison order in ops.dead_letters',
      async () =>
        warehouse('ops.dead_letters')
          .whereRaw("convert_from(raw, 'UTF8')::jsonb->'after'->>'id' = ?", [poison.id])
          .first(),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(deadLetter).toMatchObject({ code: 'CONTRACT_VIOLATION', path: 'after.currency' });
  });

  it('lands nothing twice when a second pipeline reads the same changes', async () => {
    const [order] = await insertOrders(1);
    if (!order) throw new Error('no order inserted');
    await waitForProvisionalToMatch(lateIds);
    const second = await start(`${pipeline}-second`);
    try {
      // The second pipeline starts at the end: make one more change both of them read.
      await source('shop.orders').where({ id: order.id }).update({ status: 'shipped' });
      await waitFor(
        'the second pipeline to apply the update',
        async () => (await appliedOrders(`${pipeline}-second`, [order.id])).size === 1 || undefined,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    } finally {
      await second.stop();
    }
    const landed = await warehouse('raw.change_events')
      .whereRaw("primary_key->>'id' = ?", [order.id])
      .orderBy('lsn')
      .select('op');
    expect(landed.map((row) => row.op)).toEqual(['c', 'u']);
    await waitForProvisionalToMatch(lateIds);
  });

  it('reads the changes made after its first start even if it read nothing before it stopped', async () => {
    // Started at the end and stopped before reading any change, with the group's offsets gone
    // from Kafka (as when a partition changes owner before its first fetch): only the positions
    // pinned in the warehouse at the first start say where to read from on the next start.
    const name = `${pipeline}-third`;
    await (await start(name)).stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([name]).finally(() => admin.disconnect());
    const before = await highMarks();
    const orders = await insertOrders(3);
    const total = (marks: Map<number, bigint>) => [...marks.values()].reduce((a, b) => a + b, 0n);
    await waitFor(
      'the orders in Kafka',
      async () => total(await highMarks()) >= total(before) + 3n || undefined,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const third = await start(name);
    try {
      const versions = await waitFor(
        'the restarted pipeline to apply the orders made while it was down',
        async () => {
          const rows = await appliedOrders(
            name,
            orders.map((order) => order.id),
          );
          return rows.size === orders.length ? rows : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(versions.size).toBe(3);
    } finally {
      await third.stop();
    }
  });

  it('pins its first position on every partition when it first starts at the beginning', async () => {
    // A topic of its own: a pipeline read from the beginning of the shop's topics and stopped
    // at once would land an arbitrary slice of their history (some partitions further than
    // others) in the changelog every other test and the demo consolidate.
    const name = `${pipeline}-fourth`;
    const pinTopic = `${prefix}.pin-test-${randomUUID()}`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    let fourth: StreamPipeline | undefined;
    try {
      await admin.createTopics({ topics: [{ topic: pinTopic, numPartitions: 3 }] });
      // Tombstones (skipped by the stream), and partition 1's first one deleted: its
      // beginning is offset 1, not 0.
      await producer.send({
        topic: pinTopic,
        messages: [0, 1, 2].flatMap((partition) => [
          { partition, key: 'k', value: null },
          { partition, key: 'k', value: null },
        ]),
      });
      await admin.fetchTopicMetadata({ topics: [pinTopic] });
      await admin.deleteTopicRecords({
        topic: pinTopic,
        partitions: [{ partition: 1, offset: '1' }],
      });
      const lows = new Map(
        (await admin.fetchTopicOffsets(pinTopic)).map(({ partition, low }) => [
          partition,
          BigInt(low),
        ]),
      );
      expect(lows).toEqual(
        new Map([
          [0, 0n],
          [1, 1n],
          [2, 0n],
        ]),
      );

      fourth = await start(name, 'earliest', { topics: new Map([['shop.orders', pinTopic]]) });
      // Right after joining, before any batch of every partition can have committed.
      const stored = await warehouse('ops.consumer_offsets').where({ group_id: name });
      const positions = new Map(stored.map((row) => [row.partition, BigInt(row.next_offset)]));
      expect(new Set(stored.map((row) => row.topic))).toEqual(new Set([pinTopic]));
      expect([...positions.keys()].sort()).toEqual([0, 1, 2]);
      for (const [partition, low] of lows) {
        expect(positions.get(partition)).toBeGreaterThanOrEqual(low);
        expect(positions.get(partition)).toBeLessThanOrEqual(2n);
      }
    } finally {
      await fourth?.stop();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [pinTopic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('records the changes Kafka deleted before it read them as a gap, and goes on after it', async () => {
    // A topic of this test's own, holding copies of six real order changes, so deleting its
    // records (as retention would) touches nothing else on the stack.
    const name = `${pipeline}-gap`;
    // Another test's deletes may still be arriving: their tombstones have no value.
    const orderIdOf = (value: Buffer | null) =>
      value === null ? '' : String(JSON.parse(String(value))?.after?.id);
    const gapTopic = `${prefix}.gap-test-${randomUUID()}`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    let reader: StreamPipeline | undefined;
    try {
      await admin.createTopics({ topics: [{ topic: gapTopic, numPartitions: 1 }] });
      const before = await highMarks();
      const orders = await insertOrders(6);
      const ids = orders.map((order) => String(order.id));
      const copies = await waitFor(
        'the six orders in Kafka',
        async () => {
          const found = (await readRange(before, await highMarks())).filter((message) =>
            ids.includes(orderIdOf(message.value)),
          );
          const seen = new Set(found.map((message) => orderIdOf(message.value)));
          return seen.size === ids.length ? found : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      const byId = (index: number) =>
        copies.find((message) => orderIdOf(message.value) === ids[index]);
      const send = (indexes: number[]) =>
        producer.send({
          topic: gapTopic,
          messages: indexes.map((index) => {
            const message = byId(index);
            return { key: message?.key ?? null, value: message?.value ?? null };
          }),
        });
      const stored = () =>
        warehouse('ops.consumer_offsets')
          .where({ group_id: name, topic: gapTopic, partition: 0 })
          .first('next_offset');
      const storedReaches = (offset: number) =>
        waitFor(
          `the pipeline to store offset ${offset}`,
          async () => (Number((await stored())?.next_offset) === offset ? true : undefined),
          { timeoutMs: 30_000, intervalMs: 100 },
        );
      const ownTopics = new Map([['shop.orders', gapTopic]]);

      await send([0, 1, 2]);
      reader = await start(name, 'earliest', { topics: ownTopics });
      await storedReaches(3);
      await reader.stop();
      reader = undefined;
      // While it is down, two changes arrive and are deleted before it can read them.
      await send([3, 4]);
      // The admin finds the partition's leader in metadata it has loaded for the topic.
      await admin.fetchTopicMetadata({ topics: [gapTopic] });
      await admin.deleteTopicRecords({
        topic: gapTopic,
        partitions: [{ partition: 0, offset: '5' }],
      });
      await send([5]);
      reader = await start(name, 'earliest', { topics: ownTopics });
      await storedReaches(6);

      const gaps = await warehouse('ops.stream_gaps')
        .where({ pipeline: name })
        .select('topic', 'partition', 'missing_from', 'missing_until');
      expect(gaps).toEqual([
        { topic: gapTopic, partition: 0, missing_from: '3', missing_until: '5' },
      ]);
      const applied = await appliedOrders(name, ids);
      expect([...applied].sort()).toEqual([ids[0], ids[1], ids[2], ids[5]].sort());
    } finally {
      await reader?.stop();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [gapTopic] }).catch(() => undefined);
      await admin.disconnect();
      await resetPipeline(warehouse, kafka, name);
    }
  });

  it('pauses its intake while queued session contributions wait too long, and no longer after', async () => {
    const name = `${pipeline}-queue`;
    // A queued batch 60 s old, of a session metric no consumer of this version computes: it
    // stays queued (never dropped), so the queue's oldest wait stays over the 30 s allowed.
    const [stale] = await warehouse('stream.session_inbox')
      .insert({
        pipeline: name,
        topic: ordersTopic,
        shard: 0,
        inputs: JSON.stringify([['no_such_session_metric']]),
        watermarks: JSON.stringify({}),
        queued_at: new Date(Date.now() - 60_000),
      })
      .returning('id');
    if (!stale) throw new Error('the stale queued batch was not inserted');
    const batches: BatchStats[] = [];
    let oldestWaitMs = 0;
    const paused = await start(name, 'latest', {
      onBatch: (stats) => batches.push(stats),
      onSessionQueue: (queue) => (oldestWaitMs = queue.oldestWaitMs),
    });
    try {
      await waitFor(
        'the pipeline to see the queue behind',
        async () => (oldestWaitMs > 30_000 ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const behind = await waitFor(
        'a batch paused for the session queue',
        async () => {
          await insertOrders(1);
          return batches.find((stats) => stats.pausedMs >= 1_000);
        },
        { timeoutMs: 30_000, intervalMs: 1_500 },
      );
      expect(behind.pausedMs).toBeGreaterThanOrEqual(1_000);
      expect(await warehouse('stream.session_inbox').where({ id: stale.id })).toHaveLength(1);

      // Once the queue is within its bound again, batches are not paused for it.
      await warehouse('stream.session_inbox').where({ id: stale.id }).delete();
      const seen = batches.length;
      const calm = await waitFor(
        'an unpaused batch after the queue emptied',
        async () => {
          await insertOrders(1);
          return batches.slice(seen).find((stats) => stats.pausedMs === 0);
        },
        { timeoutMs: 30_000, intervalMs: 1_500 },
      );
      expect(calm.pausedMs).toBe(0);
    } finally {
      await paused.stop();
      await resetPipeline(warehouse, kafka, name);
    }
  });

  it('resumes from its stored offsets after a restart without counting anything twice', async () => {
    await stream?.stop();
    stream = undefined;
    // Changes made while the pipeline is down are read when it comes back.
    const orders = await insertOrders(3);
    await source('shop.orders').where({ id: orders[0]?.id }).update({ status: 'cancelled' });
    stream = await start();
    await waitForProvisionalToMatch(lateIds);
    const stored = await warehouse('ops.consumer_offsets').where({ group_id: pipeline });
    expect(stored.length).toBeGreaterThan(0);
  });
});
