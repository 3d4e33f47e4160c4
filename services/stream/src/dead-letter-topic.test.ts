import { describe, expect, it } from 'vitest';
import { deadLetterMessages, DLQ_TOPIC_MAX_VALUE_BYTES } from './dead-letter-topic';
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
