import type { Logger } from '@tidemark/runtime';
import type { Message, Producer } from 'kafkajs';
import type { DeadLetter } from './landing';

/** The DLQ topic's messages stay under Kafka's default 1 MB limit. */
export const DLQ_TOPIC_MAX_VALUE_BYTES = 900_000;

/**
 * Dead letters as messages of the DLQ topic: the raw bytes (cut to what the topic takes, the
 * full length in a header) and why, where from, in headers.
 */
export function deadLetterMessages(deadLetters: readonly DeadLetter[]): Message[] {
  return deadLetters.map((letter) => ({
    value: letter.raw.subarray(0, DLQ_TOPIC_MAX_VALUE_BYTES),
    headers: {
      'tidemark-code': letter.code,
      'tidemark-path': letter.path,
      'tidemark-message': letter.message,
      'tidemark-source': `${letter.kafka_topic}/${letter.kafka_partition}/${letter.kafka_offset}`,
      'tidemark-raw-bytes': String(letter.raw.length),
    },
  }));
}

/**
 * Publishes dead letters to the DLQ topic too. The warehouse already holds them (committed with
 * their batch), so a failure here is logged, never a reason to read the batch again.
 */
export async function publishDeadLetters(
  producer: Producer,
  topic: string,
  deadLetters: readonly DeadLetter[],
  logger: Logger,
): Promise<void> {
  if (deadLetters.length === 0) return;
  try {
    await producer.send({ topic, messages: deadLetterMessages(deadLetters) });
  } catch (error) {
    logger.error('publishing dead letters to the DLQ topic failed; ops.dead_letters has them', {
      topic,
      deadLetters: deadLetters.length,
      error: String(error),
    });
  }
}
