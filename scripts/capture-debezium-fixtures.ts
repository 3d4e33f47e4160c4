// Captures real Debezium change events from the running stack as test fixtures for
// contracts/. Run: npx tsx scripts/capture-debezium-fixtures.ts (the stack must be up and the
// connector registered). Writes contracts/fixtures/debezium/<name>.json with the raw values.
import {
  createDatabase,
  createKafka,
  loadConfig,
  silentLogger,
  withTimeout,
} from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

const config = loadConfig();
const source = createDatabase(config.source, 1);
const kafka = createKafka(config, 'fixture-capture', silentLogger);
const topics = ['shop.orders', 'shop.payments'].map(
  (table) => `${config.kafka.topicPrefix}.${table}`,
);
const captured: { topic: string; key: string | null; value: string | null }[] = [];

const consumer = kafka.consumer({ groupId: `fixture-capture-${randomUUID()}` });
const joined = new Promise<void>((resolve) =>
  consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
);
await consumer.connect();
await consumer.subscribe({ topics, fromBeginning: false });
await consumer.run({
  eachMessage: async ({ topic, message }) => {
    captured.push({
      topic,
      key: message.key?.toString() ?? null,
      value: message.value?.toString() ?? null,
    });
  },
});
await withTimeout(joined, 60_000, 'the capture consumer to join');

const customer = `fixture-${randomUUID().slice(0, 8)}`;
const [order] = await source('shop.orders')
  .insert({
    customer_id: customer,
    amount_minor: 4999,
    currency: 'EUR',
    status: 'pending',
    channel: 'web',
  })
  .returning('id');
// A gateway response large enough to be TOASTed, so the update below, which leaves it
// unchanged, shows how Debezium carries unchanged TOAST values.
const gatewayResponse = {
  approved: true,
  trace: Array.from({ length: 400 }, (_, i) => `${randomUUID()}-${i}`),
};
const [payment] = await source('shop.payments')
  .insert({
    order_id: order.id,
    amount_minor: 4999,
    currency: 'EUR',
    method: 'card',
    status: 'authorized',
    fee: '1.2345',
    settled_on: '2026-11-23',
    gateway_response: JSON.stringify(gatewayResponse),
  })
  .returning('id');
await source('shop.orders')
  .where({ id: order.id })
  .update({ status: 'paid', updated_at: source.fn.now() });
await source('shop.payments')
  .where({ id: payment.id })
  .update({ status: 'captured', updated_at: source.fn.now() });
await source('shop.orders').where({ id: order.id }).delete(); // cascades to the payment
await source('shop.orders').insert({
  customer_id: customer,
  amount_minor: 100,
  currency: 'eur',
  status: 'pending',
});

// insert, insert, update, update, delete + tombstone per table, poison insert
const expected = 9;
const deadline = Date.now() + 60_000;
while (captured.length < expected && Date.now() < deadline)
  await new Promise((r) => setTimeout(r, 200));
await consumer.disconnect();
await source.destroy();
if (captured.length < expected)
  throw new Error(`captured ${captured.length} of ${expected} messages`);

const names = new Map<string, number>();
for (const message of captured) {
  const table = message.topic.split('.').at(-1) ?? 'unknown';
  const op =
    message.value === null ? 'tombstone' : (JSON.parse(message.value) as { op: string }).op;
  const poison = message.value?.includes('"currency":"eur"') ? '-poison-currency' : '';
  const version = table === 'orders' ? '-v2' : '';
  const base = `${table}${version}-${op}${poison}`;
  const n = (names.get(base) ?? 0) + 1;
  names.set(base, n);
  const file = `contracts/fixtures/debezium/${base}${n > 1 ? `-${n}` : ''}.json`;
  await writeFile(file, `${JSON.stringify(message, null, 2)}\n`);
  process.stdout.write(`${file}\n`);
}
