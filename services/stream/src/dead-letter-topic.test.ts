import { describe, expect, it } from 'vitest';
import {
  DeadLetterPublisher,
  deadLetterMessages,
  DLQ_TOPIC_MAX_VALUE_BYTES,
} from './dead-letter-topic';
import type { DeadLetter } from './landing';

function letter(raw: Buffer): DeadLetter {
  return {
    kafka_topic: 'tidemark.shop.orders',
    kafka_partition: 2,
    kafka_offset: '41',
    code: 'CONTRACT_VIOLATION',
    path: '$.after.amount_minor',
    message: 'expected a number',
    issues: '[]',
    raw,
  };
}

describe('deadLetterMessages', () => {
  it('carries the raw bytes and says why and where from in headers', () => {
    const [message] = deadLetterMessages([letter(Buffer.from('{"op":"c"}'))]);
    expect(message?.value).toEqual(Buffer.from('{"op":"c"}'));
    expect(message?.headers).toEqual({
      'tidemark-code': 'CONTRACT_VIOLATION',
      'tidemark-path': '$.after.amount_minor',
      'tidemark-message': 'expected a number',
      'tidemark-source': 'tidemark.shop.orders/2/41',
      'tidemark-raw-bytes': '10',
    });
  });

  it('cuts a message larger than the topic takes, and keeps its full length in a header', () => {
    const raw = Buffer.alloc(DLQ_TOPIC_MAX_VALUE_BYTES + 5, 'x');
    const [message] = deadLetterMessages([letter(raw)]);
    expect((message?.value as Buffer).length).toBe(DLQ_TOPIC_MAX_VALUE_BYTES);
    expect(message?.headers?.['tidemark-raw-bytes']).toBe(String(raw.length));
  });
});

describe('DeadLetterPublisher', () => {
  /** A publish that finishes when told to, recording what it was given in order. */
  function gatedPublish() {
    const published: string[] = [];
    const gates: (() => void)[] = [];
    const publish = (letters: readonly DeadLetter[]) =>
      new Promise<void>((resolve) => {
        gates.push(() => {
          published.push(...letters.map((each) => each.kafka_offset));
          resolve();
        });
      });
    const openNext = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
    };
    return { published, publish, openNext };
  }
  const at = (offset: string) => ({ ...letter(Buffer.from('x')), kafka_offset: offset });

  it('lets a batch go on before its dead letters are published, and publishes them in order', async () => {
    const { published, publish, openNext } = gatedPublish();
    const publisher = new DeadLetterPublisher(publish, 10);
    await publisher.enqueue([at('1'), at('2')]);
    await publisher.enqueue([at('3')]);
    await publisher.enqueue([]);
    expect(published).toEqual([]);
    const drained = publisher.drained();
    await openNext();
    await openNext();
    await drained;
    expect(published).toEqual(['1', '2', '3']);
  });

  it('makes the batch wait once more than its limit are queued', async () => {
    const { published, publish, openNext } = gatedPublish();
    const publisher = new DeadLetterPublisher(publish, 2);
    await publisher.enqueue([at('1'), at('2')]);
    let waited = true;
    const third = publisher.enqueue([at('3')]).then(() => (waited = false));
    await new Promise((resolve) => setImmediate(resolve));
    expect(waited).toBe(true);
    await openNext();
    await openNext();
    await third;
    expect(published).toEqual(['1', '2', '3']);
  });
});
