import { withAdmin } from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';
import type { PinnedPosition } from './positions';

// What the stream asks Kafka's admin API about its topics' offsets.

/** The earliest offset Kafka still has of a partition: older ones were deleted. */
export async function earliestOffsetOf(
  kafka: Kafka,
  topic: string,
  partition: number,
): Promise<bigint> {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  const low = offsets.find((offset) => offset.partition === partition)?.low;
  if (low === undefined) throw new Error(`Kafka reports no partition ${partition} of ${topic}`);
  return BigInt(low);
}

/** Where a new pipeline begins to read each partition: its end now, or its beginning. */
export async function firstPositionsOf(
  kafka: Kafka,
  topics: readonly string[],
  startAt: 'earliest' | 'latest',
): Promise<PinnedPosition[]> {
  return withAdmin(kafka, async (admin) => {
    const firsts: PinnedPosition[] = [];
    for (const topic of topics) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        const offset = startAt === 'latest' ? high : low;
        firsts.push({ topic, partition, nextOffset: BigInt(offset) });
      }
    }
    return firsts;
  });
}
