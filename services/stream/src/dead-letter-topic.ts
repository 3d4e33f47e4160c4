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

/** Dead letters a publisher holds before the batches that found more wait for it. */
export const DEFAULT_MAX_QUEUED_DEAD_LETTERS = 50_000;

/**
 * Publishes dead letters to the DLQ topic behind the batches that found them, in order: a batch
 * does not wait for its publish (its dead letters are committed in the warehouse already; a
 * publish costs about as much as the batch itself in a flood of poison), unless more than
 * `maxQueued` are still waiting, so a flood cannot fill memory. `drained()` waits for them all
 * (before the producer disconnects).
 */
export class DeadLetterPublisher {
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly publish: (deadLetters: readonly DeadLetter[]) => Promise<void>,
    private readonly maxQueued = DEFAULT_MAX_QUEUED_DEAD_LETTERS,
  ) {}

  /** Queues a batch's dead letters; resolves at once, or when the queue is short enough again. */
  async enqueue(deadLetters: readonly DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return;
    this.queued += deadLetters.length;
    this.queue = this.queue
      .then(() => this.publish(deadLetters))
      .finally(() => {
        this.queued -= deadLetters.length;
      });
    if (this.queued > this.maxQueued) await this.queue;
  }

  /** Every dead letter queued so far is published (or its failure logged). */
  drained(): Promise<void> {
    return this.queue;
  }
}
