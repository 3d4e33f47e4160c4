import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChangelogLanding, type ChangelogLanding } from './landing-consumer';

const config = loadConfig();
const source = createDatabase(config.source, 2);
const warehouse = createDatabase(config.warehouse, 4);
const topics = [
  `${config.kafka.topicPrefix}.shop.orders`,
  `${config.kafka.topicPrefix}.shop.payments`,
];
let landing: ChangelogLanding;

async function landedChanges(orderId: string) {
  return warehouse('raw.change_events')
    .where({ source_table: 'shop.orders' })
    .whereRaw("primary_key->>'id' = ?", [orderId])
    .orderBy('lsn');
}

async function waitForChanges(orderId: string, count: number) {
  return waitFor(
    `${count} changes of order ${orderId}`,
    async () => {
      const rows = await landedChanges(orderId);
      return rows.length >= count ? rows : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

beforeAll(async () => {
  // Its own consumer group per run, starting at the end: the test sees only its own changes.
  landing = await startChangelogLanding({
    kafka: createKafka(config, 'landing-int-test', silentLogger),
    warehouse,
    logger: silentLogger,
    groupId: `landing-int-test-${randomUUID()}`,
    topics,
    fromBeginning: false,
  });
  await landing.joined;
});

afterAll(async () => {
  await landing.stop();
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

describe('changelog landing on the live stack', () => {
  it('lands an insert, update and delete of an order with their row images', async () => {
    const customer = `int-${randomUUID()}`;
    const [order] = await source('shop.orders')
      .insert({ customer_id: customer, amount_minor: 1250, currency: 'EUR', status: 'pending' })
      .returning('id');
    await source('shop.orders')
      .where({ id: order.id })
      .update({ status: 'paid', updated_at: source.fn.now() });
    await source('shop.orders').where({ id: order.id }).delete();

    const changes = await waitForChanges(order.id, 3);
    expect(changes.map((change) => change.op)).toEqual(['c', 'u', 'd']);
    const [created, updated, deleted] = changes;
    expect(created.after).toMatchObject({
      id: order.id,
      customer_id: customer,
      amount_minor: 1250,
      currency: 'EUR',
    });
    expect(updated.before).toMatchObject({ status: 'pending' });
    expect(updated.after).toMatchObject({ status: 'paid' });
    expect(deleted.before).toMatchObject({ id: order.id, status: 'paid' });
    expect(deleted.after).toBeNull();
    expect(Number(created.lsn)).toBeLessThan(Number(updated.lsn));
    expect(created.contract_version).toBe(1);
  });

  it('dead-letters a row that breaks its contract and keeps landing good rows', async () => {
    const [poison] = await source('shop.orders')
      .insert({
        customer_id: `int-${randomUUID()}`,
        amount_minor: 990,
        currency: 'euro',
        status: 'pending',
      })
      .returning('id');
    const [good] = await source('shop.orders')
      .insert({
        customer_id: `int-${randomUUID()}`,
        amount_minor: 1990,
        currency: 'GBP',
        status: 'pending',
      })
      .returning('id');

    await waitForChanges(good.id, 1);
    const deadLetter = await waitFor(
      'the poison order in ops.dead_letters',
      async () =>
        warehouse('ops.dead_letters')
          .whereRaw("convert_from(raw, 'UTF8')::jsonb->'after'->>'id' = ?", [poison.id])
          .first(),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(deadLetter).toMatchObject({ code: 'CONTRACT_VIOLATION', path: 'after.currency' });
    expect(deadLetter.kafka_topic).toBe(`${config.kafka.topicPrefix}.shop.orders`);
    expect(await landedChanges(poison.id)).toHaveLength(0);
  });

  it('lands nothing twice when a second consumer group replays the same changes', async () => {
    const [order] = await source('shop.orders')
      .insert({
        customer_id: `int-${randomUUID()}`,
        amount_minor: 4200,
        currency: 'USD',
        status: 'paid',
      })
      .returning('id');
    await waitForChanges(order.id, 1);

    const replay = await startChangelogLanding({
      kafka: createKafka(config, 'landing-int-replay', silentLogger),
      warehouse,
      logger: silentLogger,
      groupId: `landing-int-replay-${randomUUID()}`,
      topics: [`${config.kafka.topicPrefix}.shop.orders`],
      fromBeginning: true,
    });
    try {
      await replay.joined;
      // Once the replaying group has committed past the order's offset, it has seen it.
      const admin = createKafka(config, 'landing-int-admin', silentLogger).admin();
      await admin.connect();
      const [landed] = await landedChanges(order.id);
      await waitFor(
        'the replaying group to pass the order',
        async () => {
          const offsets = await admin.fetchOffsets({
            groupId: replay.groupId,
            topics: [landed.kafka_topic],
          });
          const partition = offsets[0]?.partitions.find(
            (p) => p.partition === landed.kafka_partition,
          );
          return partition && BigInt(partition.offset) > BigInt(landed.kafka_offset)
            ? true
            : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await admin.disconnect();
    } finally {
      await replay.stop();
    }
    expect(await landedChanges(order.id)).toHaveLength(1);
  });
});
