import { TidemarkError, type Logger } from '@tidemark/runtime';
import type { Admin } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { markKey, marksByTopic, messagesBetween, type OffsetMarks } from './offset-marks';

/** The end (high-water) offset of every partition of the topics. */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<OffsetMarks> {
  const marks = new Map<string, bigint>();
  for (const topic of topics) {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
      marks.set(markKey(topic, partition), BigInt(high));
    }
  }
  return marks;
}

/** Commits `marks` as a fresh consumer group's offsets, so its consumer starts exactly there. */
export async function setGroupOffsets(
  admin: Admin,
  groupId: string,
  marks: OffsetMarks,
): Promise<void> {
  for (const [topic, partitions] of marksByTopic(marks)) {
    await admin.setOffsets({ groupId, topic, partitions });
  }
}

export interface DeliveryOptions {
  /** At least this many messages past the start marks (e.g. the row changes the load logged). */
  minMessages: number;
  /** ... and no new message for this long. */
  quietMs: number;
  timeoutMs: number;
  logger: Logger;
}

/**
 * Waits until Debezium has delivered a load: the topics' end offsets are at least `minMessages`
 * past `start` and have not moved for `quietMs`. Returns the end marks and when they last moved.
 */
export async function waitForDelivery(
  admin: Admin,
  topics: readonly string[],
  start: OffsetMarks,
  options: DeliveryOptions,
): Promise<{ end: OffsetMarks; lastMovedAtMs: number }> {
  const deadline = Date.now() + options.timeoutMs;
  let end = await endOffsets(admin, topics);
  let lastMovedAtMs = Date.now();
  let lastLoggedAtMs = 0;
  for (;;) {
    const delivered = messagesBetween(start, end);
    const now = Date.now();
    if (delivered >= options.minMessages && now - lastMovedAtMs >= options.quietMs) {
      return { end, lastMovedAtMs };
    }
    if (now >= deadline) {
      throw new TidemarkError(
        'TIMEOUT',
        `Debezium delivered ${delivered} of at least ${options.minMessages} messages in ${options.timeoutMs} ms`,
        { retriable: true, context: { delivered, expected: options.minMessages } },
      );
    }
    if (now - lastLoggedAtMs >= 5_000) {
      options.logger.info('waiting for Debezium', { delivered, expected: options.minMessages });
      lastLoggedAtMs = now;
    }
    await sleep(100);
    const next = await endOffsets(admin, topics);
    if (messagesBetween(end, next) > 0) {
      end = next;
      lastMovedAtMs = Date.now();
    }
  }
}
