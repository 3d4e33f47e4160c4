import { describe, expect, it } from 'vitest';
import { contentsFrom, decodeBatch, type BatchMessage } from './batch-decoding';

const ORDER = {
  id: '59ab8c09-8788-4c62-baa7-35b1dbb71644',
  customer_id: 'customer-1',
  amount_minor: 4999,
  currency: 'EUR',
  status: 'paid',
  created_at: '2026-11-22T23:59:42.226790Z',
  updated_at: '2026-11-22T23:59:42.226790Z',
  channel: 'web',
};

function envelope(
  op: string,
  before: object | null,
  after: object | null,
  lsn: number,
  ts: string,
) {
  const source = {
    schema: 'shop',
    table: 'orders',
    lsn,
    txId: lsn,
    ts_ms: Date.parse(ts),
    snapshot: 'false',
  };
  return Buffer.from(JSON.stringify({ op, before, after, source, ts_ms: Date.parse(ts) + 50 }));
}

const messages: BatchMessage[] = [
  { offset: '10', timestamp: '1', value: envelope('c', null, ORDER, 100, '2026-11-22T23:59:42Z') },
  {
    offset: '11',
    timestamp: '2',
    value: envelope('u', ORDER, { ...ORDER, currency: 'euro' }, 101, '2026-11-23T00:00:01Z'),
  },
  { offset: '12', timestamp: '3', value: null },
  {
    offset: '13',
    timestamp: '4',
    value: envelope(
      'd',
      { ...ORDER, created_at: '2027-01-01T00:00:00Z' },
      null,
      102,
      '2026-11-23T00:00:02Z',
    ),
  },
];

describe('decodeBatch', () => {
  it('sorts messages into changes, dead letters and tombstones', () => {
    const decoded = decodeBatch('tidemark.shop.orders', 1, messages);
    expect(decoded.map((message) => message.kind)).toEqual([
      'change',
      'dead_letter',
      'tombstone',
      'change',
    ]);
    const [created, poison] = decoded;
    expect(created).toMatchObject({
      kind: 'change',
      offset: 10n,
      change: { table: 'shop.orders', primaryKey: `{"id":"${ORDER.id}"}` },
      eventTimeMs: Date.parse('2026-11-22T23:59:42.226Z'),
    });
    expect(poison).toMatchObject({
      kind: 'dead_letter',
      deadLetter: { code: 'CONTRACT_VIOLATION', path: 'after.currency', kafka_offset: '11' },
    });
  });
});

describe('contentsFrom', () => {
  const decoded = decodeBatch('tidemark.shop.orders', 1, messages);

  it('keeps what lies at or after the stored offset', () => {
    const contents = contentsFrom(decoded, 12n, undefined);
    expect(contents.changes.map((change) => change.event.op)).toEqual(['d']);
    expect(contents.deadLetters).toEqual([]);
  });

  it("names the commit days the changelog needs, and ignores a delete's old event time", () => {
    const contents = contentsFrom(decoded, undefined, 5);
    expect(contents.commitDays).toEqual(['2026-11-22', '2026-11-23']);
    expect(contents.maxEventTimeMs).toBe(Date.parse('2026-11-22T23:59:42.226Z'));
    expect(contents.landed.map((row) => row.kafka_offset)).toEqual(['10', '13']);
  });
});
