import { currentContract, decodeChange } from '@tidemark/contracts';
import type { Logger } from '@tidemark/runtime';
import type { Consumer, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { toDeadLetter, toLandedChange, type DeadLetter, type LandedChange } from './landing';
import { writeLandingBatch } from './landing-sink';

export interface ChangelogLandingOptions {
  kafka: Kafka;
  warehouse: Knex;
  logger: Logger;
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts: the topic's beginning, or its end. */
  fromBeginning: boolean;
}

export interface ChangelogLanding {
  groupId: string;
  /** Resolves once the consumer has joined its group and been assigned partitions. */
  joined: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Consumes Debezium change topics in batches and lands every change in the raw changelog (bad
 * messages in the dead-letter table). Kafka offsets are committed only after the warehouse
 * transaction, and the landing is idempotent, so a redelivered batch changes nothing.
 */
export async function startChangelogLanding(
  options: ChangelogLandingOptions,
): Promise<ChangelogLanding> {
  const { kafka, warehouse, logger, groupId, topics, fromBeginning } = options;
  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let markJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => {
    markJoined = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => markJoined());

  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const changes: LandedChange[] = [];
      const deadLetters: DeadLetter[] = [];
      for (const message of batch.messages) {
        const position = {
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          timestamp: message.timestamp,
        };
        const decoded = decodeChange(message.value, currentContract);
        if (decoded.kind === 'change') {
          const table = `${decoded.event.source.schema}.${decoded.event.source.table}`;
          changes.push(toLandedChange(decoded.event, currentContract(table), position));
        } else if (decoded.kind === 'error') {
          deadLetters.push(toDeadLetter(decoded.error, position));
        }
      }
      const result = await writeLandingBatch(warehouse, changes, deadLetters);
      const last = batch.messages.at(-1);
      if (last) {
        resolveOffset(last.offset);
        const next = (BigInt(last.offset) + 1n).toString();
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: next },
        ]);
      }
      await heartbeat();
      logger.debug('batch landed', {
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages.length,
        ...result,
      });
      if (result.deadLettered > 0) {
        logger.warn('messages dead-lettered', {
          topic: batch.topic,
          partition: batch.partition,
          count: result.deadLettered,
        });
      }
    },
  });
  return {
    groupId,
    joined,
    stop: async () => {
      await consumer.disconnect();
    },
  };
}
