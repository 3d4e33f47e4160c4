import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  date,
  decimal,
  decimalFromBytes,
  decodeWithConnectSchema,
  fillUnavailableValues,
  json,
  timestamp,
  timestamptz,
  UNAVAILABLE_VALUE_PLACEHOLDER,
} from './encodings';
import { decodeChange } from './envelope';
import { paymentsV1 } from '../events/shop-payments';

function bytesOf(unscaled: bigint, length: number): string {
  const bytes = Buffer.alloc(length);
  let value = unscaled < 0n ? (1n << BigInt(length * 8)) + unscaled : unscaled;
  for (let i = length - 1; i >= 0; i -= 1) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes.toString('base64');
}

describe('Debezium encodings', () => {
  it('keeps decimals exact as text, from string mode or from a double', () => {
    expect(decimal().parse('12.3400')).toBe('12.3400');
    expect(decimal().parse(-0.5)).toBe('-0.5');
    expect(decimal().safeParse('12,34').success).toBe(false);
  });

  it('decodes Kafka Connect Decimal bytes (two’s complement, big-endian) with their scale', () => {
    expect(decimalFromBytes(bytesOf(123400n, 3), 4)).toBe('12.3400');
    expect(decimalFromBytes(bytesOf(-5n, 1), 2)).toBe('-0.05');
    expect(decimalFromBytes(bytesOf(7n, 1), 0)).toBe('7');
    expect(decimalFromBytes(bytesOf(-(10n ** 30n), 13), 10)).toBe(
      '-100000000000000000000.0000000000',
    );
  });

  it('turns io.debezium.time.Date days into a calendar date', () => {
    expect(date().parse(0)).toBe('1970-01-01');
    expect(date().parse(20780)).toBe('2026-11-23');
    expect(date().parse(-1)).toBe('1969-12-31');
    expect(date().parse('2026-02-28')).toBe('2026-02-28');
    expect(date().safeParse('2026-02-30x').success).toBe(false);
  });

  it('turns MicroTimestamp microseconds into a local ISO timestamp', () => {
    expect(timestamp().parse(1_795_000_000_123_456)).toBe('2026-11-18T11:06:40.123456');
    expect(timestamp().parse(-1)).toBe('1969-12-31T23:59:59.999999');
    expect(timestamp().parse('2026-11-18T09:46:40.123456')).toBe('2026-11-18T09:46:40.123456');
  });

  it('accepts ZonedTimestamp text and refuses a timestamp without offset', () => {
    expect(timestamptz().parse('2026-11-22T22:41:52.259207Z')).toBe('2026-11-22T22:41:52.259207Z');
    expect(timestamptz().safeParse('2026-11-22T22:41:52').success).toBe(false);
  });

  it('parses io.debezium.data.Json documents and reports broken ones', () => {
    expect(json().parse('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    const broken = json().safeParse('{"a":');
    expect(broken.success).toBe(false);
    expect(broken.error?.issues[0]?.message).toBe('not a JSON document');
  });

  it('decodes decimal fields of a message written with an embedded schema', () => {
    const fields = [
      {
        field: 'fee',
        type: 'bytes',
        optional: true,
        name: 'org.apache.kafka.connect.data.Decimal',
        parameters: { scale: '4' },
      },
      {
        field: 'rate',
        type: 'struct',
        optional: true,
        name: 'io.debezium.data.VariableScaleDecimal',
      },
      { field: 'note', type: 'string', optional: true },
    ];
    const row = {
      fee: bytesOf(12345n, 2),
      rate: { scale: 3, value: bytesOf(1500n, 2) },
      note: 'x',
    };
    expect(decodeWithConnectSchema(row, fields)).toEqual({
      row: { fee: '1.2345', rate: '1.500', note: 'x' },
    });
  });

  it('fills unchanged TOAST placeholders from the before image, and names those it cannot', () => {
    const before = { id: 1, doc: '{"big":true}' };
    expect(fillUnavailableValues(before, { id: 1, doc: UNAVAILABLE_VALUE_PLACEHOLDER })).toEqual({
      row: { id: 1, doc: '{"big":true}' },
      unfilled: [],
    });
    expect(
      fillUnavailableValues(null, { id: 1, doc: UNAVAILABLE_VALUE_PLACEHOLDER }).unfilled,
    ).toEqual(['doc']);
  });

  it('dead-letters an update whose TOAST placeholder cannot be filled', () => {
    const after = {
      id: '0b5c1e2a-4f7d-4a8b-9c3e-2d1f6a7b8c9d',
      order_id: '1b5c1e2a-4f7d-4a8b-9c3e-2d1f6a7b8c9d',
      amount_minor: 100,
      currency: 'EUR',
      method: 'card',
      status: 'captured',
      fee: null,
      settled_on: null,
      gateway_response: UNAVAILABLE_VALUE_PLACEHOLDER,
      created_at: '2026-11-22T10:00:00Z',
      updated_at: '2026-11-22T10:00:00Z',
    };
    const message = {
      before: null,
      after,
      op: 'u',
      ts_ms: 1,
      source: { schema: 'shop', table: 'payments', ts_ms: 1, lsn: 5, txId: 1 },
    };
    const result = decodeChange(Buffer.from(JSON.stringify(message)), () => paymentsV1);
    expect(result).toMatchObject({
      kind: 'error',
      error: { code: 'UNAVAILABLE_VALUE', path: 'after.gateway_response' },
    });
  });

  it('emits JSON Schema from the input side of every encoding', () => {
    const schema = z.toJSONSchema(paymentsV1.row, { io: 'input' }) as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(schema.properties)).toContain('settled_on');
  });
});
