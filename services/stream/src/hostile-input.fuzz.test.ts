import { DEAD_LETTER_CODES, findUnstorableJson } from '@tidemark/contracts';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBatch, type BatchMessage, type DecodedMessage } from './batch-decoding';
import { DEFAULT_PLAUSIBLE_TIMES, LsnHorizon } from './plausibility';

// Whatever a message holds, decoding it ends as a change the warehouse can store, a dead letter
// the warehouse can store, or a tombstone: never an exception, which would stop the consumer.
// Random bytes, and mutations of envelopes captured from the live connector (with and without an
// embedded Connect schema), are decoded the way the pipeline decodes a partition's batch.

const FIXTURES = new URL('../../../contracts/fixtures/debezium/', import.meta.url);
const CAPTURED = readdirSync(FIXTURES)
  .map((name) => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as CapturedMessage)
  .filter((message) => message.value !== null)
  .map((message) => ({
    topic: message.topic,
    envelope: JSON.parse(message.value as string) as Record<string, unknown>,
    poison: message.value?.includes('"currency":"eur"') === true,
  }));

interface CapturedMessage {
  topic: string;
  value: string | null;
}

/** The captured envelopes were committed around this time; "now" is an hour later. */
const CAPTURED_AT_MS = 1_795_387_312_267;
const NOW_MS = CAPTURED_AT_MS + 3_600_000;

/** A payments envelope as it reads with an embedded schema: the fee as Connect Decimal bytes. */
function withEmbeddedSchema(envelope: Record<string, unknown>): Record<string, unknown> {
  const rowSchema = {
    type: 'struct',
    fields: [
      {
        field: 'fee',
        type: 'bytes',
        optional: true,
        name: 'org.apache.kafka.connect.data.Decimal',
        parameters: { scale: '4' },
      },
    ],
  };
  const feeBytes = (row: unknown) =>
    row && typeof row === 'object'
      ? { ...row, fee: Buffer.from([0x30, 0x39]).toString('base64') }
      : row;
  return {
    schema: {
      type: 'struct',
      fields: [
        { field: 'before', ...rowSchema },
        { field: 'after', ...rowSchema },
      ],
    },
    payload: { ...envelope, before: feeBytes(envelope.before), after: feeBytes(envelope.after) },
  };
}

const SEEDS = [
  ...CAPTURED,
  ...CAPTURED.filter(({ topic }) => topic.endsWith('payments')).map((captured) => ({
    ...captured,
    envelope: withEmbeddedSchema(captured.envelope),
  })),
];

/** Every path into a JSON value down to depth 8, objects and arrays included. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null || prefix.length >= 8) return [prefix];
  const children = Array.isArray(value)
    ? value.map((item, index) => pathsOf(item, [...prefix, index]))
    : Object.entries(value).map(([key, item]) => pathsOf(item, [...prefix, key]));
  return [prefix, ...children.flat()];
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = setAt(copy[head], rest, value);
  return copy;
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level += 1) value = level % 2 ? [value] : { deeper: value };
  return value;
}

/** Values a forger or a broken converter could put anywhere in an envelope. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme-composite' }).map((text) => `${text}\u0000`),
  fc.constantFrom('\ud800', 'a\udc00', '9999-12-31T23:59:59Z', '10000-01-01T00:00:00Z', ''),
  fc.constantFrom(2 ** 53 - 1, -(2 ** 53), 1e308, -1, 0, 100_000_001, 1.5, 253_402_300_800_000),
  fc.constantFrom('t', 'r', 'd', 'u', 'c', 'x'),
  fc.integer({ min: 60, max: 2_000 }).map(nested),
  fc.record({
    scale: fc.oneof(fc.integer(), fc.string()),
    value: fc.oneof(fc.string(), fc.integer()),
  }),
  fc.constantFrom(
    { fields: 1 },
    { fields: [{ field: 7 }] },
    { fields: [{ field: 'after', fields: 'x' }] },
  ),
);

const mutatedMessage = fc
  .record({
    seed: fc.nat(),
    edits: fc.array(fc.record({ path: fc.nat(), value: hostileValue }), {
      minLength: 1,
      maxLength: 4,
    }),
  })
  .map(({ seed, edits }) => {
    const { topic, envelope } = SEEDS[seed % SEEDS.length] as (typeof SEEDS)[number];
    let mutated: unknown = envelope;
    for (const edit of edits) {
      const paths = pathsOf(mutated);
      mutated = setAt(mutated, paths[edit.path % paths.length] as (string | number)[], edit.value);
    }
    return { topic, value: Buffer.from(JSON.stringify(mutated), 'utf8') };
  });

function decodeOne(
  topic: string,
  value: Buffer | null,
  timestamp = CAPTURED_AT_MS,
): DecodedMessage {
  const message: BatchMessage = { offset: '42', timestamp: String(timestamp), value };
  const [decoded] = decodeBatch(topic, 0, [message], {
    table: topic.replace(/^tidemark\./, ''),
    lsnHorizon: new LsnHorizon({ lsn: 31_000_000, committedAtMs: CAPTURED_AT_MS - 60_000 }),
    plausibleTimes: DEFAULT_PLAUSIBLE_TIMES,
    maxMessageBytes: 1_048_576,
    nowMs: NOW_MS,
  });
  return decoded as DecodedMessage;
}

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
