import fc from 'fast-check';
import { currentContract } from '@tidemark/contracts';
import { readdirSync, readFileSync } from 'node:fs';
import { decodeBatch, type BatchMessage, type DecodedMessage } from './batch-decoding';
import { DEFAULT_PLAUSIBLE_TIMES, LsnHorizon } from './plausibility';

// Hostile messages for property tests: mutations of envelopes captured from the live connector
// (with and without an embedded Connect schema), and how the pipeline decodes one.

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
export const CAPTURED_AT_MS = 1_795_387_312_267;
export const NOW_MS = CAPTURED_AT_MS + 3_600_000;

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

export const SEEDS = [
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

export const mutatedMessage = fc
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

export function decodeOne(
  topic: string,
  value: Buffer | null,
  timestamp = CAPTURED_AT_MS,
): DecodedMessage {
  const message: BatchMessage = { offset: '42', timestamp: String(timestamp), value };
  const [decoded] = decodeBatch(topic, 0, [message], {
    table: topic.replace(/^tidemark\./, ''),
    contractOf: currentContract,
    lsnHorizon: new LsnHorizon({ lsn: 31_000_000, committedAtMs: CAPTURED_AT_MS - 60_000 }),
    plausibleTimes: DEFAULT_PLAUSIBLE_TIMES,
    maxMessageBytes: 1_048_576,
    nowMs: NOW_MS,
  });
  return decoded as DecodedMessage;
}
