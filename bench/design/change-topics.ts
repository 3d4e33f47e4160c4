// What the design measurements read of the shop's change topics: which table each carries, and
// where the last messages of each partition are.
import { shopStreamTopology } from '@tidemark/cli';
import { withAdmin, type Config } from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';

/** Where a partition's share of the last messages of some topics starts and ends. */
export interface PartitionRange {
  from: bigint;
  /** The partition's end when asked: the next offset to be written. */
  to: bigint;
}

/**
 * The ranges (by `topic/partition`) holding about the last `messages` messages of `topics`,
 * shared evenly between their partitions: what the design measurements read.
 */
export async function lastMessages(
  kafka: Kafka,
  topics: readonly string[],
  messages: number,
): Promise<Map<string, PartitionRange>> {
  const offsets = await withAdmin(kafka, (admin) =>
    Promise.all(
      topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })),
    ),
  );
  const count = offsets.reduce((sum, { partitions }) => sum + partitions.length, 0);
  const ranges = new Map<string, PartitionRange>();
  for (const { topic, partitions } of offsets) {
    for (const { partition, low, high } of partitions) {
      const from = BigInt(high) - BigInt(Math.ceil(messages / count));
      ranges.set(`${topic}/${partition}`, {
        from: from > BigInt(low) ? from : BigInt(low),
        to: BigInt(high),
      });
    }
  }
  return ranges;
}

/** The table each change topic of the shop connector carries, by topic. */
export async function tablesByTopic(config: Config): Promise<Map<string, string>> {
  const { changeTopics } = await shopStreamTopology(config);
  return new Map([...changeTopics].map(([table, topic]) => [topic, table]));
}
