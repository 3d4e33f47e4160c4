import { describe, expect, it } from 'vitest';
import { currentContract } from '../events/registry';
import { decimalFromBytes, MAX_DECIMAL_BYTES } from './encodings';
import { decodeChange } from './envelope';

// Inputs that once threw outside the dead-letter path (and stopped the consumer): each must end
// as an error naming what is wrong, never as an exception.

const PAYMENT = {
  id: '5c0e1b2a-4f7d-4a8b-9c3e-2d1f6a7b8c9d',
  order_id: '0b5c1e2a-4f7d-4a8b-9c3e-2d1f6a7b8c9d',
  amount_minor: 1250,
  currency: 'EUR',
  method: 'card',
  status: 'captured',
  fee: null,
  settled_on: null,
  gateway_response: null,
  created_at: '2026-11-22T10:00:00.123456Z',
  updated_at: '2026-11-22T10:00:00.123456Z',
};
const SOURCE = { ts_ms: 1_795_000_000_000, schema: 'shop', table: 'payments', lsn: 31_545_912 };

function envelope(after: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { before: null, after, source: SOURCE, op: 'c', ts_ms: 1_795_000_000_400, ...extra };
}

function decode(value: unknown, options = {}) {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
  return decodeChange(bytes, currentContract, options);
}

/** An embedded Connect schema declaring the payment's fee with the given Decimal encoding. */
function withFeeSchema(fee: Record<string, unknown>, value: unknown) {
  return {
    schema: {
      type: 'struct',
      fields: [
        { field: 'after', type: 'struct', fields: [{ field: 'fee', type: 'bytes', ...fee }] },
      ],
    },
    payload: envelope({ ...PAYMENT, fee: value }),
  };
}

describe('hostile input to the decoder', () => {
  it('refuses an embedded schema whose fields are not an array', () => {
    expect(decode({ schema: { fields: 1 }, payload: null })).toMatchObject({
      kind: 'error',
      error: { code: 'DECODE_FAILED', path: 'schema.fields' },
    });
    expect(
      decode({ schema: { fields: [{ field: 7 }] }, payload: envelope(PAYMENT) }),
    ).toMatchObject({
      kind: 'error',
      error: { code: 'DECODE_FAILED', path: 'schema.fields.0.field' },
    });
  });

  it('refuses a VariableScaleDecimal that is not {scale, value}', () => {
    const result = decode(withFeeSchema({ name: 'io.debezium.data.VariableScaleDecimal' }, 1));
    expect(result).toMatchObject({
      kind: 'error',
      error: { code: 'DECODE_FAILED', path: 'after.fee' },
    });
    const badScale = decode(
      withFeeSchema(
        { name: 'io.debezium.data.VariableScaleDecimal' },
        { scale: 1e9, value: 'AQ==' },
      ),
    );
    expect(badScale).toMatchObject({ kind: 'error', error: { code: 'DECODE_FAILED' } });
  });

  it('refuses a Decimal with a huge scale, or bytes that are not base64', () => {
    const decimal = { name: 'org.apache.kafka.connect.data.Decimal' };
    expect(
      decode(withFeeSchema({ ...decimal, parameters: { scale: '1000000000' } }, 'AQ==')),
    ).toMatchObject({ kind: 'error', error: { code: 'DECODE_FAILED', path: 'after.fee' } });
    expect(
      decode(withFeeSchema({ ...decimal, parameters: { scale: '2' } }, 'not base64!')),
    ).toMatchObject({ kind: 'error', error: { code: 'DECODE_FAILED', path: 'after.fee' } });
  });

  it('refuses a decimal longer than the limit, quickly', () => {
    const huge = Buffer.alloc(700_000, 0x7f).toString('base64');
    const startedAt = performance.now();
    const result = decode(
      withFeeSchema(
        { name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } },
        huge,
      ),
    );
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(result).toMatchObject({ kind: 'error', error: { code: 'DECODE_FAILED' } });
    const largest = Buffer.alloc(MAX_DECIMAL_BYTES, 0x7f).toString('base64');
    expect(decimalFromBytes(largest, 2)).toMatch(/^\d+\.\d\d$/);
  });

  it('refuses a date outside what ISO text can hold', () => {
    expect(decode(envelope({ ...PAYMENT, settled_on: 100_000_001 }))).toMatchObject({
      kind: 'error',
      error: { code: 'CONTRACT_VIOLATION', path: 'after.settled_on' },
    });
  });

  it('refuses an LSN or transaction id that is negative or not a safe integer', () => {
    for (const lsn of [-1, 2 ** 60]) {
      expect(decode(envelope(PAYMENT, { source: { ...SOURCE, lsn } }))).toMatchObject({
        kind: 'error',
        error: { code: 'NOT_AN_ENVELOPE', path: 'source.lsn' },
      });
    }
  });

  it('calls U+0000 and unpaired surrogates contract violations, wherever they are', () => {
    expect(decode(envelope({ ...PAYMENT, currency: 'EU\u0000' }))).toMatchObject({
      kind: 'error',
      error: { code: 'CONTRACT_VIOLATION', path: 'after.currency' },
    });
    expect(decode(envelope(PAYMENT, { source: { ...SOURCE, db: '\ud800' } }))).toMatchObject({
      kind: 'error',
      error: { code: 'CONTRACT_VIOLATION', path: 'source.db' },
    });
    const inDocument = decode(
      envelope({ ...PAYMENT, gateway_response: JSON.stringify({ code: 'a\u0000b' }) }),
    );
    expect(inDocument).toMatchObject({
      kind: 'error',
      error: { code: 'CONTRACT_VIOLATION', path: 'after.gateway_response.code' },
    });
  });

  it('refuses JSON nested deeper than the limit, in the envelope or in a JSON column', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const raw = Buffer.from(
      JSON.stringify(envelope(PAYMENT)).replace('"op":"c"', `"deep":${deep},"op":"c"`),
    );
    expect(decode(raw)).toMatchObject({ kind: 'error', error: { code: 'DECODE_FAILED' } });
    expect(decode(envelope({ ...PAYMENT, gateway_response: deep }))).toMatchObject({
      kind: 'error',
      error: {
        code: 'CONTRACT_VIOLATION',
        path: expect.stringMatching(/^after\.gateway_response/),
      },
    });
  });

  it('does not parse a message over the size limit', () => {
    const result = decode(envelope(PAYMENT), { maxMessageBytes: 100 });
    expect(result).toMatchObject({
      kind: 'error',
      error: { code: 'DECODE_FAILED', path: '$', message: expect.stringContaining('100 bytes') },
    });
  });

  it("refuses a change naming a table other than its topic's", () => {
    expect(decode(envelope(PAYMENT), { table: 'shop.orders' })).toMatchObject({
      kind: 'error',
      error: { code: 'TABLE_MISMATCH', path: 'source.table' },
    });
  });

  it('refuses an operation without the row image it needs', () => {
    expect(decode({ ...envelope(PAYMENT), after: null })).toMatchObject({
      kind: 'error',
      error: { code: 'NOT_AN_ENVELOPE', path: 'after' },
    });
    expect(decode({ ...envelope(PAYMENT), op: 'd', after: null })).toMatchObject({
      kind: 'error',
      error: { code: 'NOT_AN_ENVELOPE', path: 'before' },
    });
  });
});
