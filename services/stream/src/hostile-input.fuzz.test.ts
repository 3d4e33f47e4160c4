import { DEAD_LETTER_CODES, findUnstorableJson } from '@tidemark/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedMessage } from './batch-decoding';
import { decodeOne, mutatedMessage, NOW_MS, SEEDS } from './hostile-messages.fixture';
import { DEFAULT_PLAUSIBLE_TIMES } from './plausibility';

// Whatever a message holds, decoding it ends as a change the warehouse can store, a dead letter
// the warehouse can store, or a tombstone: never an exception, which would stop the consumer.
// Random bytes, and mutations of envelopes captured from the live connector (with and without an
// embedded Connect schema), are decoded the way the pipeline decodes a partition's batch.
// (hostile-input.int.test.ts lands a sample of them in the real warehouse.)

/** What the warehouse requires of a row it stores: checked the way PostgreSQL would refuse it. */
function expectStorable(decoded: DecodedMessage): void {
  if (decoded.kind === 'tombstone') return;
  if (decoded.kind === 'dead_letter') {
    const { deadLetter } = decoded;
    expect(DEAD_LETTER_CODES).toContain(deadLetter.code);
    for (const text of [deadLetter.path, deadLetter.message]) {
      expect(findUnstorableJson(text)).toBeUndefined();
      expect(text.length).toBeLessThan(1_100);
    }
    expect(findUnstorableJson(JSON.parse(deadLetter.issues))).toBeUndefined();
    return;
  }
  const { landed } = decoded;
  const document = JSON.parse(JSON.stringify(landed)) as unknown;
  expect(findUnstorableJson(document)).toBeUndefined();
  expect(Number.isSafeInteger(landed.lsn)).toBe(true);
  for (const time of [landed.committed_at, landed.captured_at, landed.kafka_timestamp]) {
    expect(time.getTime()).toBeGreaterThanOrEqual(DEFAULT_PLAUSIBLE_TIMES.earliestMs);
    expect(time.getTime()).toBeLessThanOrEqual(NOW_MS + DEFAULT_PLAUSIBLE_TIMES.aheadMs);
  }
}

describe('decoding hostile messages (property)', () => {
  it('decodes every captured envelope unmutated as a change', () => {
    for (const { topic, envelope } of SEEDS.filter((seed) => !seed.poison)) {
      const decoded = decodeOne(topic, Buffer.from(JSON.stringify(envelope)));
      const why = decoded.kind === 'dead_letter' ? decoded.deadLetter.message : decoded.kind;
      expect(decoded.kind, why).toBe('change');
    }
  });

  it('never throws on random bytes, and what it keeps is storable', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4_096 }), fc.integer(), (bytes, timestamp) => {
        const decoded = decodeOne('tidemark.shop.orders', Buffer.from(bytes), timestamp);
        expectStorable(decoded);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on mutated envelopes, and what it keeps is storable', () => {
    fc.assert(
      fc.property(mutatedMessage, ({ topic, value }) => {
        expectStorable(decodeOne(topic, value));
      }),
      { numRuns: 1_000 },
    );
  });
});
