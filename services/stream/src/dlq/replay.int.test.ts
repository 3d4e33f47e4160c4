import { currentContract, decodeChange } from '@tidemark/contracts';
import {
  createDatabase,
  createKafka,
  ensureTopics,
  loadConfig,
  silentLogger,
  waitFor,
} from '@tidemark/runtime';
import type { Consumer, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderInsertEnvelope } from '../../../../test/integration/order-envelope';
import { listDeadLetters } from './list';
import { replayDeadLetters } from './replay';

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 4);
const run = randomUUID();
const kafka = createKafka(config, `dlq-replay-int-${run}`, silentLogger);
// The dead letters claim to come from this run's own change topic, so re-injecting them
// reaches no pipeline and counting them needs no filtering of other traffic.
const topic = `${config.kafka.topicPrefix}.dlq-replay-int-${run}`;
const decode = (raw: Buffer | null) => decodeChange(raw, currentContract);
let producer: Producer | undefined;
const consumers: Consumer[] = [];
const insertedIds: number[] = [];

/** A Debezium insert of shop.orders as the connector writes it (schemaless JSON). */
function orderEnvelope(currency: string): { key: string; value: Buffer } {
  const id = randomUUID();
  const order = {
    id,
    customer_id: `dlq-replay-int-${run}`,
    amount_minor: 4999,
    currency,
    status: 'pending',
    createdAtMs: Date.now(),
  };
  const lsn = 90_000_000 + Math.floor(Math.random() * 1_000_000);
  const txId = 900_000 + Math.floor(Math.random() * 1000);
  return { key: JSON.stringify({ id }), value: orderInsertEnvelope(order, lsn, txId) };
}

/** Inserts a dead letter as the pipeline would have, under an older or stricter contract. */
async function insertDeadLetter(
  raw: Buffer,
  partition: number,
  offset: number,
  rejectedAt: string,
): Promise<number> {
  const [row] = await warehouse('ops.dead_letters')
    .insert({
      kafka_topic: topic,
      kafka_partition: partition,
      kafka_offset: offset,
      code: 'CONTRACT_VIOLATION',
      path: rejectedAt,
      message: `shop.orders v1: rejected at ${rejectedAt}`,
      issues: JSON.stringify([{ code: 'unrecognized_keys', path: rejectedAt, message: 'x' }]),
      raw,
    })
    .returning('id');
  if (!row) throw new Error('the dead letter was not inserted');
  const id = Number(row.id);
  insertedIds.push(id);
  return id;
}

/** Every message on the run's topic from the beginning up to its current end, read by a new group. */
async function readTopic(): Promise<{ key: string | null; value: Buffer | null }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const expected = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  const consumer = kafka.consumer({
    groupId: `dlq-replay-int-${randomUUID()}`,
    maxWaitTimeInMs: 100,
  });
  consumers.push(consumer);
  const messages: { key: string | null; value: Buffer | null }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push({ key: message.key?.toString('utf8') ?? null, value: message.value });
    },
  });
  await waitFor(
    `the ${expected} messages of ${topic}`,
    async () => (messages.length >= expected ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await consumer.disconnect();
  return messages;
}

async function deadLetterRow(id: number) {
  return warehouse('ops.dead_letters')
    .where({ id: String(id) })
    .first('replayed_at', 'replay_topic', 'replay_attempts', 'last_replay_error');
}

beforeAll(async () => {
  await ensureTopics(kafka, [topic], 2);
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  for (const consumer of consumers) await consumer.disconnect().catch(() => undefined);
  await producer?.disconnect();
  await warehouse('ops.dead_letters').whereIn('id', insertedIds).delete();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await warehouse.destroy();
});

describe('dead-letter replay on the live stack', () => {
  it('re-injects a dead letter that now passes exactly once, and keeps one still failing', async () => {
    const passing = orderEnvelope('EUR');
    const poison = orderEnvelope('euro');
    const passingId = await insertDeadLetter(passing.value, 1, 41, 'after.channel');
    const failingId = await insertDeadLetter(poison.value, 0, 42, 'after.currency');
    const ids = [passingId, failingId];

    const listed = await listDeadLetters(warehouse, {
      table: topic.slice(config.kafka.topicPrefix.length + 1),
      limit: 10,
      includeReplayed: false,
    });
    expect(listed.map((entry) => entry.id).sort()).toEqual([...ids].sort());

    // A dry run decides the same but neither produces nor marks anything.
    const dryRun = await replayDeadLetters({
      warehouse,
      producer: producer as Producer,
      decode,
      filter: { ids },
      dryRun: true,
    });
    expect(dryRun.replayed.map((entry) => entry.id)).toEqual([passingId]);
    expect((await deadLetterRow(passingId))?.replay_attempts).toBe(0);

    const report = await replayDeadLetters({
      warehouse,
      producer: producer as Producer,
      decode,
      filter: { ids },
      dryRun: false,
    });
    expect(report.considered).toBe(2);
    expect(report.replayed).toEqual([
      {
        id: passingId,
        source: { topic, partition: 1, offset: '41' },
        topic,
        partition: 1,
        key: passing.key,
      },
    ]);
    expect(report.stillFailing).toMatchObject([
      {
        id: failingId,
        code: 'CONTRACT_VIOLATION',
        path: 'after.currency',
        issues: [{ code: 'invalid_format', path: 'after.currency' }],
      },
    ]);
    expect(report.failed).toEqual([]);

    const onTopic = await readTopic();
    const copies = onTopic.filter((message) => message.value?.equals(passing.value));
    expect(copies).toEqual([{ key: passing.key, value: passing.value }]);
    expect(onTopic.some((message) => message.value?.equals(poison.value))).toBe(false);

    expect(await deadLetterRow(passingId)).toMatchObject({
      replay_topic: topic,
      replay_attempts: 1,
      last_replay_error: null,
    });
    expect((await deadLetterRow(passingId))?.replayed_at).toBeInstanceOf(Date);
    const failing = await deadLetterRow(failingId);
    expect(failing).toMatchObject({ replayed_at: null, replay_attempts: 1 });
    expect(failing?.last_replay_error).toContain('CONTRACT_VIOLATION at after.currency');

    // Replayed once means once: a second replay takes nothing and produces nothing.
    const again = await replayDeadLetters({
      warehouse,
      producer: producer as Producer,
      decode,
      filter: { ids: [passingId] },
      dryRun: false,
    });
    expect(again).toMatchObject({ considered: 0, replayed: [], stillFailing: [] });
    expect(again.skipped).toMatchObject([{ id: passingId, reason: 'already_replayed' }]);
    const afterSecond = await readTopic();
    expect(afterSecond.filter((message) => message.value?.equals(passing.value))).toHaveLength(1);
    expect(afterSecond).toHaveLength(onTopic.length);

    const unreplayed = await listDeadLetters(warehouse, {
      table: topic.slice(config.kafka.topicPrefix.length + 1),
      limit: 10,
      includeReplayed: false,
    });
    expect(unreplayed.map((entry) => [entry.id, entry.replayAttempts])).toEqual([[failingId, 1]]);
  });

  it('lets only one of two concurrent replays take a dead letter', async () => {
    const passing = orderEnvelope('GBP');
    const id = await insertDeadLetter(passing.value, 0, 43, 'after.channel');
    const replay = () =>
      replayDeadLetters({
        warehouse,
        producer: producer as Producer,
        decode,
        filter: { ids: [id] },
        dryRun: false,
      });
    const reports = await Promise.all([replay(), replay()]);
    expect(reports.flatMap((report) => report.replayed.map((entry) => entry.id))).toEqual([id]);
    expect(reports.flatMap((report) => report.skipped.map((entry) => entry.reason))).toHaveLength(
      1,
    );
    const onTopic = await readTopic();
    expect(onTopic.filter((message) => message.value?.equals(passing.value))).toHaveLength(1);
    expect(await deadLetterRow(id)).toMatchObject({ replay_attempts: 1, replay_topic: topic });
  });
});
