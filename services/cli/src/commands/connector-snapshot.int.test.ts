import {
  ConnectClient,
  createDatabase,
  createKafka,
  loadConfig,
  silentLogger,
  waitFor,
} from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopConnectorConfig } from './connector';
import { requestSnapshot } from './connector-snapshot';
import { SHOP_CONNECTOR_NAME } from '../paths';

// Rows that were in a table before Debezium captured it: a table filled first, then added to
// the publication and the connector, then snapshotted through the signal table. Every row must
// arrive on its topic as a read ('r'). The connector is restored afterwards.

const config = loadConfig();
const source = createDatabase(config.source, 2);
const table = `snapshot_probe_${randomUUID().slice(0, 8)}`;
const qualified = `shop.${table}`;
const topic = `${config.kafka.topicPrefix}.${qualified}`;
const kafka = createKafka(config, `connector-snapshot-${table}`, silentLogger, 'admin');
const connect = new ConnectClient(config.connect.url);
const ids = Array.from({ length: 7 }, () => randomUUID());
let original: Record<string, string>;
/** The connector config capturing the probe table too. */
let capturing: Record<string, string>;

beforeAll(async () => {
  await source.schema.withSchema('shop').createTable(table, (columns) => {
    columns.uuid('id').primary();
    columns.timestamp('created_at', { useTz: true }).notNullable();
  });
  await source.raw(`ALTER TABLE ${qualified} REPLICA IDENTITY FULL`);
  // Rows written before the table is captured: no change of them is ever streamed.
  await source(qualified).insert(ids.map((id) => ({ id, created_at: new Date() })));
  await source.raw(`ALTER PUBLICATION tidemark_shop ADD TABLE ${qualified}`);
  original = await shopConnectorConfig(config);
  capturing = {
    ...original,
    'table.include.list': `${original['table.include.list']},${qualified}`,
  };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  await connect.putConnector(SHOP_CONNECTOR_NAME, capturing);
  await connect.waitUntilRunning(SHOP_CONNECTOR_NAME, 90_000);
}, 180_000);

afterAll(async () => {
  await connect.putConnector(SHOP_CONNECTOR_NAME, original);
  await connect.waitUntilRunning(SHOP_CONNECTOR_NAME, 90_000);
  await source.raw(`ALTER PUBLICATION tidemark_shop DROP TABLE ${qualified}`);
  await source.schema.withSchema('shop').dropTable(table);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await source.destroy();
}, 180_000);

describe('tidemark connector snapshot', () => {
  it('brings the rows that were there before capture, each as a read', async () => {
    await requestSnapshot(source, capturing, [qualified]);
    const read = new Map<string, string>();
    const consumer = kafka.consumer({ groupId: `connector-snapshot-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const { op, after } = JSON.parse(message.value.toString()) as {
          op: string;
          after: { id: string } | null;
        };
        if (after) read.set(after.id, op);
      },
    });
    try {
      await waitFor(
        'every row of the table to arrive',
        async () => ids.every((id) => read.has(id)) || undefined,
        { timeoutMs: 90_000, intervalMs: 500 },
      );
    } finally {
      await consumer.disconnect();
    }
    expect([...read.keys()].sort()).toEqual([...ids].sort());
    expect(new Set(read.values())).toEqual(new Set(['r']));
  }, 120_000);
});
