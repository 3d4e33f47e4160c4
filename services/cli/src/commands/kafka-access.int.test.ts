import {
  createDatabase,
  createKafka,
  loadConfig,
  silentLogger,
  waitFor,
  type Config,
} from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';

// Who may write the change topics: only Kafka Connect (Debezium). A client without credentials
// is refused by the broker, the stream's principal is refused by the ACLs; Connect's changes
// still arrive, and the stream's principal reads them and writes its dead-letter topic.

const config = loadConfig();
const prefix = config.kafka.topicPrefix;
const ORDERS_TOPIC = `${prefix}.shop.orders`;
const source = createDatabase(config.source, 1);

afterAll(async () => {
  await source.destroy();
});

function withKafka(overrides: Partial<Config['kafka']>): Config {
  return { ...config, kafka: { ...config.kafka, ...overrides } };
}

/** Connects a producer that gives up at the first failure and sends one message. */
async function produceOnce(kafka: Kafka, topic: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: '{"id":"forged"}', value: '{"payload":null}' }],
      acks: -1,
    });
  } finally {
    await producer.disconnect();
  }
}

describe('Kafka authentication and ACLs', () => {
  it('refuses a producer without credentials', async () => {
    const anonymous = createKafka(
      withKafka({ saslMechanism: undefined }),
      'anonymous',
      silentLogger,
    );
    await expect(produceOnce(anonymous, ORDERS_TOPIC)).rejects.toThrow();
  });

  it('refuses a producer with a wrong password', async () => {
    const impostor = createKafka(
      withKafka({
        principals: {
          ...config.kafka.principals,
          stream: { username: config.kafka.principals.stream.username, password: 'guessed' },
        },
      }),
      'impostor',
      silentLogger,
      'stream',
    );
    await expect(produceOnce(impostor, ORDERS_TOPIC)).rejects.toThrow(/SASL|authentication/i);
  });

  it("refuses the stream's principal on a change topic and lets it write the dead-letter topic", async () => {
    const stream = createKafka(config, 'stream-acl-int', silentLogger, 'stream');
    await expect(produceOnce(stream, ORDERS_TOPIC)).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    await expect(produceOnce(stream, `${prefix}.dlq`)).resolves.toBeUndefined();
  });

  it("refuses to create topics for the stream's principal", async () => {
    const admin = createKafka(config, 'stream-acl-int', silentLogger, 'stream').admin({
      retry: { retries: 0 },
    });
    await admin.connect();
    try {
      await expect(
        admin.createTopics({ topics: [{ topic: `${prefix}.shop.forged-${randomUUID()}` }] }),
      ).rejects.toThrow();
    } finally {
      await admin.disconnect();
    }
  });

  it('creates no topic on first use, even for the operator', async () => {
    const topic = `${prefix}.shop.typo-${randomUUID()}`;
    const kafka = createKafka(config, 'kafka-access-int', silentLogger);
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  it("delivers Connect's changes to the stream's principal", async () => {
    const kafka = createKafka(config, 'stream-acl-int', silentLogger, 'stream');
    const groupId = `kafka-access-int-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    const customerId = `kafka-access-${randomUUID()}`;
    const seen: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: ORDERS_TOPIC, fromBeginning: false });
      let assigned = false;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        assigned = true;
      });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString().includes(customerId)) seen.push(customerId);
        },
      });
      await waitFor('the consumer to join its group', async () => assigned || undefined, {
        timeoutMs: 30_000,
      });
      await source('shop.orders').insert({
        customer_id: customerId,
        amount_minor: 1_000,
        currency: 'EUR',
      });
      await waitFor('the order to arrive from Debezium', async () => seen.length > 0 || undefined, {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
    } finally {
      await consumer.disconnect();
      const admin = createKafka(config, 'kafka-access-int', silentLogger).admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).finally(() => admin.disconnect());
    }
    expect(seen).toEqual([customerId]);
  });
});
