import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currentContract } from '../events/registry';
import { decodeChange, envelopeSchema, isPlainEnvelope, primaryKeyOf } from './envelope';
import { ordersV1 } from '../events/shop-orders';

const ORDER = {
  id: '0b5c1e2a-4f7d-4a8b-9c3e-2d1f6a7b8c9d',
  customer_id: 'customer-7',
  amount_minor: 1250,
  currency: 'EUR',
  status: 'pending',
  created_at: '2026-11-22T10:00:00.123456Z',
  updated_at: '2026-11-22T10:00:00.123456Z',
  channel: null,
};

const SOURCE = {
  version: '3.2.3.Final',
  connector: 'postgresql',
  name: 'tidemark',
  ts_ms: 1_795_000_000_000,
  snapshot: 'false',
  db: 'source',
  schema: 'shop',
  table: 'orders',
  txId: 812,
  lsn: 31_545_912,
};

/** A registry without contracts: whatever table a change names, it has none. */
const noContracts = () => undefined;

function message(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

describe('decodeChange', () => {
  it('decodes an insert validated against the current contract', () => {
    const result = decodeChange(
      message({ before: null, after: ORDER, source: SOURCE, op: 'c', ts_ms: 1_795_000_000_400 }),
      currentContract,
    );
    expect(result).toEqual({
      kind: 'change',
      event: {
        op: 'c',
        before: null,
        after: ORDER,
        source: {
          schema: 'shop',
          table: 'orders',
          lsn: 31_545_912,
          txId: 812,
          committedAtMs: 1_795_000_000_000,
          snapshot: false,
        },
        capturedAtMs: 1_795_000_000_400,
        contractVersion: 2,
      },
    });
  });

  it('unwraps a message written with an embedded schema', () => {
    const payload = { before: ORDER, after: null, source: SOURCE, op: 'd', ts_ms: 1 };
    const result = decodeChange(message({ schema: { type: 'struct' }, payload }), currentContract);
    expect(result.kind === 'change' && result.event.op).toBe('d');
  });

  it('marks snapshot reads', () => {
    const result = decodeChange(
      message({
        before: null,
        after: ORDER,
        source: { ...SOURCE, snapshot: 'last' },
        op: 'r',
        ts_ms: 1,
      }),
      currentContract,
    );
    expect(result.kind === 'change' && result.event.source.snapshot).toBe(true);
  });

  it('treats an empty value and a null payload as tombstones', () => {
    expect(decodeChange(null, currentContract)).toEqual({ kind: 'tombstone' });
    expect(decodeChange(message({ schema: null, payload: null }), currentContract)).toEqual({
      kind: 'tombstone',
    });
  });

  it('decodes a truncate of a table whose contract allows truncates', () => {
    const truncate = message({
      before: null,
      after: null,
      source: { ...SOURCE, lsn: null },
      op: 't',
      ts_ms: 1,
    });
    const allowing = { ...ordersV1, allowsTruncate: true };
    expect(decodeChange(truncate, () => allowing)).toMatchObject({
      kind: 'change',
      event: { op: 't', contractVersion: null },
    });
    expect(decodeChange(truncate, currentContract)).toMatchObject({
      kind: 'error',
      error: { code: 'TRUNCATE_NOT_ALLOWED', path: 'op' },
    });
    expect(decodeChange(truncate, () => undefined)).toMatchObject({
      kind: 'error',
      error: { code: 'NO_CONTRACT' },
    });
  });

  it('reports bytes that are not JSON, keeping them', () => {
    const raw = Buffer.from('{"op": "c",');
    const result = decodeChange(raw, currentContract);
    expect(result).toMatchObject({ kind: 'error', error: { code: 'NOT_JSON', path: '$' } });
    expect(result.kind === 'error' && result.error.raw).toBe(raw);
  });

  it('names the path of an envelope field that is wrong', () => {
    const result = decodeChange(
      message({ before: null, after: ORDER, source: SOURCE, op: 'x', ts_ms: 1 }),
      currentContract,
    );
    expect(result).toMatchObject({ kind: 'error', error: { code: 'NOT_AN_ENVELOPE', path: 'op' } });
  });

  it('names the row field that breaks the contract', () => {
    const result = decodeChange(
      message({
        before: null,
        after: { ...ORDER, currency: 'euro' },
        source: SOURCE,
        op: 'c',
        ts_ms: 1,
      }),
      currentContract,
    );
    expect(result).toMatchObject({
      kind: 'error',
      error: { code: 'CONTRACT_VIOLATION', path: 'after.currency' },
    });
    expect(result.kind === 'error' && result.error.message).toContain('shop.orders v2');
  });

  it('keeps every issue of the failing image, the first one matching path and message', () => {
    const result = decodeChange(
      message({
        before: null,
        after: { ...ORDER, currency: 'euro', amount_minor: -5, coupon: 'X', referrer: 'ad' },
        source: SOURCE,
        op: 'c',
        ts_ms: 1,
      }),
      currentContract,
    );
    if (result.kind !== 'error') throw new Error('expected an error');
    const { error } = result;
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'after.amount_minor',
      'after.coupon',
      'after.currency',
      'after.referrer',
    ]);
    expect(error.issues[0]?.path).toBe(error.path);
    expect(error.message).toContain(error.issues[0]?.message);
    expect(error.issues).toContainEqual({
      code: 'unrecognized_keys',
      path: 'after.coupon',
      message: expect.stringContaining('coupon'),
    });
    expect(error.issues).toContainEqual({
      code: 'invalid_format',
      path: 'after.currency',
      message: 'an ISO-4217 code such as EUR',
    });
  });

  it('names the nested path of an issue, as the top-level path does', () => {
    const result = decodeChange(
      message({
        before: null,
        after: { ...ORDER, id: 'not-a-uuid' },
        source: SOURCE,
        op: 'c',
        ts_ms: 1,
      }),
      currentContract,
    );
    expect(result).toMatchObject({
      kind: 'error',
      error: {
        code: 'CONTRACT_VIOLATION',
        path: 'after.id',
        issues: [{ path: 'after.id' }],
      },
    });
  });

  it('gives a decode failure that is not a contract violation one issue mirroring it', () => {
    const notJson = decodeChange(Buffer.from('{"op": "c",'), currentContract);
    if (notJson.kind !== 'error') throw new Error('expected an error');
    expect(notJson.error.issues).toEqual([
      { code: 'NOT_JSON', path: '$', message: notJson.error.message },
    ]);
    const noContract = decodeChange(
      message({
        before: null,
        after: ORDER,
        source: { ...SOURCE, table: 'refunds' },
        op: 'c',
        ts_ms: 1,
      }),
      noContracts,
    );
    expect(noContract).toMatchObject({
      kind: 'error',
      error: {
        issues: [
          {
            code: 'NO_CONTRACT',
            path: 'source.table',
            message: 'no event contract for table shop.refunds',
          },
        ],
      },
    });
  });

  it('reports a table without a contract', () => {
    const result = decodeChange(
      message({
        before: null,
        after: ORDER,
        source: { ...SOURCE, table: 'refunds' },
        op: 'c',
        ts_ms: 1,
      }),
      noContracts,
    );
    expect(result).toMatchObject({
      kind: 'error',
      error: { code: 'NO_CONTRACT', path: 'source.table' },
    });
  });
});

describe('primaryKeyOf', () => {
  it('takes the key from the before image of a delete', () => {
    const result = decodeChange(
      message({ before: ORDER, after: null, source: SOURCE, op: 'd', ts_ms: 1 }),
      currentContract,
    );
    if (result.kind !== 'change') throw new Error('expected a change');
    expect(primaryKeyOf(result.event, ordersV1)).toEqual({ id: ORDER.id });
  });
});

describe('the envelope fast path', () => {
  // Envelopes near the edge of valid: each field mostly drawn from plausible values, sometimes
  // from anything at all, so that most envelopes have at most one or two fields wrong.
  const maybe = <T>(valid: fc.Arbitrary<T>) =>
    fc.oneof(
      { arbitrary: valid, weight: 12 },
      fc.anything(),
      fc.constant(undefined),
      fc.constant(null),
    );
  const count = fc.oneof(
    { arbitrary: fc.nat(), weight: 5 },
    fc.integer(),
    fc.double(),
    fc.bigInt(),
  );
  const image = fc.oneof(fc.dictionary(fc.string(), fc.anything()), fc.array(fc.anything()));
  const envelope = fc.record({
    op: maybe(fc.constantFrom('c', 'u', 'd', 'r', 't', 'x', 'C')),
    before: maybe(image),
    after: maybe(image),
    ts_ms: maybe(count),
    source: maybe(
      fc.record({
        schema: maybe(fc.string()),
        table: maybe(fc.string()),
        lsn: maybe(count),
        txId: maybe(count),
        ts_ms: maybe(count),
        snapshot: maybe(fc.oneof(fc.boolean(), fc.string())),
      }),
    ),
  });

  it('takes only envelopes the schema takes', () => {
    fc.assert(
      fc.property(fc.oneof(envelope, fc.anything()), (value) => {
        if (isPlainEnvelope(value)) expect(envelopeSchema.safeParse(value).success).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('takes the envelopes Debezium writes', () => {
    const written = { op: 'u', before: ORDER, after: ORDER, source: SOURCE, ts_ms: 1 };
    expect(isPlainEnvelope(written)).toBe(true);
  });
});
