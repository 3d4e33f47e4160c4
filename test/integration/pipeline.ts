// What integration tests need to run a stream pipeline of their own on the live stack: start it
// on the shop's topics from their current end, and wait until it has stored offsets past
// everything written to a topic so far (every change landed, poison rows included).
import { METRICS, type MetricDefinition } from '@tidemark/contracts';
import { createKafka, silentLogger, waitFor, type Config } from '@tidemark/runtime';
import {
  resetPipeline,
  startStreamPipeline,
  type StreamPipeline,
  type StreamPipelineOptions,
} from '@tidemark/stream';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';

type ShopTable = 'shop.orders' | 'shop.payments';

export interface TestPipeline {
  name: string;
  kafka: Kafka;
  stream: StreamPipeline;
  /** Waits until the pipeline has read every message written so far to the table's topic. */
  waitCaughtUp(table: ShopTable, timeoutMs?: number): Promise<void>;
  /**
   * Waits until the changelog holds at least `changes` changes of the rows with these ids (what
   * Debezium has yet to publish is not in Kafka yet), then until the pipeline has caught up.
   */
  waitLanded(table: ShopTable, ids: readonly string[], changes: number): Promise<void>;
  /** Stops the pipeline and removes everything it derived. */
  stopAndReset(): Promise<void>;
}

/** Starts a pipeline named `name` on the shop's change topics, from their current end. */
export async function startTestPipeline(options: {
  config: Config;
  warehouse: Knex;
  name: string;
  metrics?: readonly MetricDefinition[];
  contractOf?: StreamPipelineOptions['contractOf'];
  onBatch?: StreamPipelineOptions['onBatch'];
}): Promise<TestPipeline> {
  const { config, warehouse, name } = options;
  const prefix = config.kafka.topicPrefix;
  const kafka = createKafka(config, name, silentLogger);
  const topicOf = (table: string) => `${prefix}.${table}`;
  const stream = await startStreamPipeline({
    kafka,
    warehouse,
    logger: silentLogger,
    pipeline: name,
    topics: new Map([
      ['shop.orders', topicOf('shop.orders')],
      ['shop.payments', topicOf('shop.payments')],
    ]),
    heartbeatTopic: `${prefix}.heartbeat.${prefix}`,
    metrics: options.metrics ?? METRICS,
    startAt: 'latest',
    idleTimeoutMs: 1_000,
    tickMs: 250,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.contractOf ? { contractOf: options.contractOf } : {}),
  });
  await stream.joined;
  // Where each partition ended when the pipeline joined: it starts reading there.
  const startedAt = new Map<string, Map<number, bigint>>();
  for (const table of ['shop.orders', 'shop.payments']) {
    startedAt.set(table, await endOffsets(kafka, topicOf(table)));
  }

  const waitCaughtUp = async (table: ShopTable, timeoutMs = 60_000) => {
    const topic = topicOf(table);
    const ends = await endOffsets(kafka, topic);
    await waitFor(
      `pipeline ${name} to read ${topic} to its end`,
      async () => {
        const stored = await warehouse('ops.consumer_offsets').where({ group_id: name, topic });
        const joinedAt = startedAt.get(table);
        return (
          [...ends].every(([partition, end]) => {
            // Nothing written to the partition since the pipeline joined: nothing to wait for.
            if ((joinedAt?.get(partition) ?? 0n) >= end) return true;
            const row = stored.find((candidate) => candidate.partition === partition);
            return row !== undefined && BigInt(row.next_offset) >= end;
          }) || undefined
        );
      },
      { timeoutMs, intervalMs: 250 },
    );
  };

  return {
    name,
    kafka,
    stream,
    waitCaughtUp,
    async waitLanded(table, ids, changes) {
      await waitFor(
        `${changes} changes of ${ids.length} ${table} rows to land`,
        async () => {
          const [row] = (await warehouse('raw.change_events')
            .where({ source_table: table })
            .whereRaw('primary_key = ANY(?::jsonb[])', [ids.map((id) => JSON.stringify({ id }))])
            .count({ landed: '*' })) as { landed: string }[];
          return Number(row?.landed ?? 0) >= changes || undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await waitCaughtUp(table);
    },
    async stopAndReset() {
      await stream.stop();
      await resetPipeline(warehouse, kafka, name);
    },
  };
}

/** The end offset (the next offset to be written) of every partition of a topic. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((offset) => [offset.partition, BigInt(offset.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until Debezium has captured everything committed in the source so far: its replication
 * slot has confirmed a position at or past the source's WAL insert position now. Debezium
 * confirms only what Kafka has acknowledged, and its heartbeat query (every 5 s) moves the slot
 * along when the shop is quiet. Exact, unlike counting messages on a topic.
 */
export async function waitCaptured(source: Knex, slot = 'tidemark_shop'): Promise<void> {
  const now = await source.raw<{ rows: { lsn: string }[] }>(
    'SELECT pg_current_wal_insert_lsn()::text AS lsn',
  );
  const target = now.rows[0]?.lsn;
  if (!target) throw new Error('the source did not say its WAL position');
  await waitFor(
    `Debezium to capture the source up to ${target}`,
    async () => {
      const { rows } = await source.raw<{ rows: { done: boolean }[] }>(
        'SELECT confirmed_flush_lsn >= ?::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = ?',
        [target, slot],
      );
      return rows[0]?.done ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

/**
 * Waits until at least `atLeast` messages were written to the topic since `before`, and then no
 * more for `quietMs` (a delete also writes a tombstone, so counts of changes are lower bounds):
 * the end offsets once the source's changes have all reached Kafka.
 */
export async function waitTopicSettled(
  kafka: Kafka,
  topic: string,
  before: Map<number, bigint>,
  atLeast: number,
  quietMs = 2_000,
): Promise<Map<number, bigint>> {
  let last = '';
  let since = Date.now();
  return waitFor(
    `${atLeast} messages on ${topic}, then quiet`,
    async () => {
      const ends = await endOffsets(kafka, topic);
      const written = [...ends].reduce(
        (sum, [partition, end]) => sum + Number(end - (before.get(partition) ?? 0n)),
        0,
      );
      const seen = JSON.stringify([...ends].map(([partition, end]) => [partition, String(end)]));
      if (seen !== last) {
        last = seen;
        since = Date.now();
        return undefined;
      }
      return written >= atLeast && Date.now() - since >= quietMs ? ends : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
}
