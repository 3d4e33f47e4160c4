import { withTimeout } from '@tidemark/runtime';
import { DEFAULT_MAX_BYTES_PER_PARTITION } from '@tidemark/stream';
import type { Kafka } from 'kafkajs';
import { performance } from 'node:perf_hooks';
import { markKey, messagesBetween, parseMarkKey, type OffsetRange } from './offset-marks';
import { ratePerSec } from './stats';

/** What the raw consumer read of a range, timed from its first message to its last. */
export interface RawConsumption {
  messages: number;
  bytes: number;
  elapsedMs: number;
  eps: number;
  /** From connecting the consumer to its first message of the range (join, seek, first fetch). */
  startupMs: number;
}

// The stream pipeline's default fetch bounds, so the two differ only in the work per message.
const MAX_BYTES_PER_PARTITION = DEFAULT_MAX_BYTES_PER_PARTITION;
const MAX_BYTES = 4 * MAX_BYTES_PER_PARTITION;

/**
 * The ceiling: a fresh consumer group reads exactly the range with kafkajs, doing no more per
 * message than counting its bytes, with the same fetch settings as the stream pipeline.
 */
export async function measureRawConsumption(
  kafka: Kafka,
  range: OffsetRange,
  options: { groupId: string; timeoutMs: number },
): Promise<RawConsumption> {
  const expected = messagesBetween(range.start, range.end);
  const topics = [...new Set([...range.end.keys()].map((key) => parseMarkKey(key).topic))];
  let messages = 0;
  let bytes = 0;
  let firstAtMs: number | undefined;
  let lastAtMs = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    maxBytes: MAX_BYTES,
  });
  const connectingAtMs = performance.now();
  try {
    await consumer.connect();
    // From the end until the seeks below apply, so nothing before the range is fetched.
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const arrivedAtMs = performance.now();
        const key = markKey(batch.topic, batch.partition);
        const start = range.start.get(key) ?? 0n;
        const end = range.end.get(key) ?? 0n;
        let counted = 0;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset < start) continue;
          if (offset >= end) break;
          counted += 1;
          bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
        }
        if (counted === 0) return;
        firstAtMs ??= arrivedAtMs;
        messages += counted;
        lastAtMs = performance.now();
        if (messages >= expected) finish();
      },
    });
    for (const [key, offset] of range.start) {
      const { topic, partition } = parseMarkKey(key);
      consumer.seek({ topic, partition, offset: offset.toString() });
    }
    await withTimeout(finished, options.timeoutMs, `the raw consumer to read ${expected} messages`);
  } finally {
    await consumer.disconnect();
  }
  const elapsedMs = firstAtMs === undefined ? 0 : lastAtMs - firstAtMs;
  return {
    messages,
    bytes,
    elapsedMs,
    eps: ratePerSec(messages, elapsedMs),
    startupMs: firstAtMs === undefined ? 0 : firstAtMs - connectingAtMs,
  };
}
