import { waitFor } from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { endOffsets, waitTopicSettled } from '../../test/integration/pipeline';
import type { PlatformProcess } from './processes';

// A flood of poison: rows the source accepts and their contract refuses, in a burst between good
// ones. Each must be dead-lettered, and the good rows must flow at least 80 % as fast as without
// them. Both bursts wait on the topic (the stream stopped) and are then read from there, so the
// rates are the stream's, not the writer's.

export interface FloodResult {
  goodRows: number;
  poisonRows: number;
  /** Good rows per second read and applied, without poison and with it. */
  baselineRowsPerSec: number;
  floodRowsPerSec: number;
  /** Dead letters the flood's burst left, of `poisonRows`. */
  deadLettered: number;
}

/** The share of the rate without poison that the good rows kept beside it. */
export const floodRatio = (flood: FloodResult) =>
  flood.baselineRowsPerSec > 0 ? flood.floodRowsPerSec / flood.baselineRowsPerSec : 0;

export async function floodCheck(context: {
  source: Knex;
  warehouse: Knex;
  kafka: Kafka;
  stream: PlatformProcess;
  pipeline: string;
  topic: string;
  customerPrefix: string;
  currency: string;
  goodRows: number;
  poisonRows: number;
}): Promise<FloodResult> {
  const baseline = await burst(context, context.goodRows, 0);
  const flood = await burst(context, context.goodRows, context.poisonRows);
  return {
    goodRows: context.goodRows,
    poisonRows: context.poisonRows,
    baselineRowsPerSec: context.goodRows / (baseline.ms / 1000),
    floodRowsPerSec: context.goodRows / (flood.ms / 1000),
    deadLettered: flood.deadLettered,
  };
}

/**
 * Stops the stream, writes `good` orders with `poison` ones spread among them, waits until
 * Debezium has put them all on the topic, starts the stream again and times it from ready to
 * caught up.
 */
async function burst(
  context: Parameters<typeof floodCheck>[0],
  good: number,
  poison: number,
): Promise<{ ms: number; deadLettered: number }> {
  const { source, warehouse, kafka, stream, topic } = context;
  await stream.stop();
  const before = await endOffsets(kafka, topic);
  const startedAt = new Date();
  const total = good + poison;
  const chunk = 1_000;
  for (let offset = 0; offset < total; offset += chunk) {
    const rows = Array.from({ length: Math.min(chunk, total - offset) }, (_, index) => {
      const n = offset + index;
      // Poison evenly spread: every (total / poison)-th row, the rest good.
      const poisoned =
        poison > 0 && Math.floor(((n + 1) * poison) / total) > Math.floor((n * poison) / total);
      return {
        customer_id: `${context.customerPrefix}-flood-${n % 50}`,
        amount_minor: 100 + (n % 900),
        // A lower-case code: PostgreSQL takes it, the orders contract refuses it.
        currency: poisoned ? context.currency.toLowerCase() : context.currency,
        status: 'paid',
      };
    });
    await source('shop.orders').insert(rows);
  }
  const ends = await waitTopicSettled(kafka, topic, before, total, 3_000);
  await stream.start();
  const readyAt = Date.now();
  await waitFor(
    `the stream to read the burst of ${total} rows`,
    async () => {
      const stored = (await warehouse('ops.consumer_offsets')
        .where({ group_id: context.pipeline, topic })
        .select('partition', 'next_offset')) as { partition: number; next_offset: string }[];
      return (
        [...ends].every(([partition, end]) => {
          const row = stored.find((candidate) => candidate.partition === partition);
          return (before.get(partition) ?? 0n) >= end || (row && BigInt(row.next_offset) >= end);
        }) || undefined
      );
    },
    { timeoutMs: 600_000, intervalMs: 100 },
  );
  const ms = Date.now() - readyAt;
  const [letters] = (await warehouse('ops.dead_letters')
    .where({ kafka_topic: topic })
    .where('received_at', '>=', startedAt)
    .count({ n: '*' })) as { n: string }[];
  return { ms, deadLettered: Number(letters?.n ?? 0) };
}
