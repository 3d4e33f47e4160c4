import { currentContract, ordersV1 } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { contentsFrom, decodeBatch, type BatchDecoding, type BatchMessage } from './batch-decoding';
import { DEFAULT_PLAUSIBLE_TIMES, LsnHorizon } from './plausibility';

function decoding(overrides: Partial<BatchDecoding> = {}): BatchDecoding {
  return {
    table: 'shop.orders',
    contractOf: currentContract,
    lsnHorizon: new LsnHorizon(undefined),
    plausibleTimes: DEFAULT_PLAUSIBLE_TIMES,
    maxMessageBytes: 1_048_576,
    nowMs: Date.parse('2026-11-23T00:00:10Z'),
    ...overrides,
  };
}

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
  {
    offset: '10',
    timestamp: String(Date.parse('2026-11-22T23:59:43Z')),
    value: envelope('c', null, ORDER, 100, '2026-11-22T23:59:42Z'),
  },
  {
    offset: '11',
    timestamp: String(Date.parse('2026-11-23T00:00:02Z')),
    value: envelope('u', ORDER, { ...ORDER, currency: 'euro' }, 101, '2026-11-23T00:00:01Z'),
  },
  { offset: '12', timestamp: String(Date.parse('2026-11-23T00:00:02Z')), value: null },
  {
    offset: '13',
    timestamp: String(Date.parse('2026-11-23T00:00:03Z')),
    value: envelope(
      'd',
      { ...ORDER, created_at: '2026-11-23T12:00:00Z' },
      null,
      102,
      '2026-11-23T00:00:02Z',
    ),
  },
];

describe('decodeBatch', () => {
  it('sorts messages into changes, dead letters and tombstones', () => {
    const decoded = decodeBatch('tidemark.shop.orders', 1, messages, decoding());
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

  it('checks each change against the contract version the pipeline was given', () => {
    // Orders v1 does not know the `channel` column the change carries.
    const v1Only = decoding({
      contractOf: (table) => (table === 'shop.orders' ? ordersV1 : undefined),
    });
    const [created] = decodeBatch('tidemark.shop.orders', 1, messages.slice(0, 1), v1Only);
    expect(created).toMatchObject({
      kind: 'dead_letter',
      deadLetter: { code: 'CONTRACT_VIOLATION', path: 'after.channel' },
    });
  });
});

describe('decodeBatch refuses what cannot be true', () => {
  const at = '2026-11-23T00:00:01Z';
  const kafkaTime = String(Date.parse(at));
  const kinds = (batch: BatchMessage[], overrides: Partial<BatchDecoding> = {}) =>
    decodeBatch('tidemark.shop.orders', 0, batch, decoding(overrides)).map((message) =>
      message.kind === 'dead_letter'
        ? `${message.deadLetter.code} ${message.deadLetter.path}`
        : message.kind,
    );

  it('dead-letters times outside the plausible span: commit, capture, event and Kafka times', () => {
    const farFuture = { ...ORDER, created_at: '9999-01-01T00:00:00Z' };
    const future = JSON.parse(envelope('c', null, ORDER, 100, at).toString()) as {
      source: { ts_ms: number };
      ts_ms: number;
    };
    expect(
      kinds([
        { offset: '1', timestamp: kafkaTime, value: envelope('c', null, farFuture, 100, at) },
        {
          offset: '2',
          timestamp: kafkaTime,
          value: Buffer.from(
            JSON.stringify({ ...future, source: { ...future.source, ts_ms: 2 ** 53 - 1 } }),
          ),
        },
        {
          offset: '3',
          timestamp: kafkaTime,
          value: Buffer.from(JSON.stringify({ ...future, ts_ms: 0 })),
        },
        { offset: '4', timestamp: '-1', value: envelope('c', null, ORDER, 100, at) },
        { offset: '5', timestamp: kafkaTime, value: envelope('c', null, ORDER, 100, at) },
      ]),
    ).toEqual([
      'IMPLAUSIBLE after.created_at',
      'IMPLAUSIBLE source.ts_ms',
      'IMPLAUSIBLE ts_ms',
      'IMPLAUSIBLE kafka.timestamp',
      'change',
    ]);
  });

  it('dead-letters an LSN far ahead of the partition, and judges the next against the last good one', () => {
    const lsnHorizon = new LsnHorizon({ lsn: 1_000, committedAtMs: Date.parse(at) - 1_000 });
    expect(
      kinds(
        [
          { offset: '1', timestamp: kafkaTime, value: envelope('c', null, ORDER, 2 ** 53 - 1, at) },
          { offset: '2', timestamp: kafkaTime, value: envelope('u', ORDER, ORDER, 5_000, at) },
        ],
        { lsnHorizon },
      ),
    ).toEqual(['IMPLAUSIBLE source.lsn', 'change']);
    expect(lsnHorizon.current()).toEqual({ lsn: 5_000, committedAtMs: Date.parse(at) });
  });

  it("dead-letters a change of another table than the topic's", () => {
    expect(
      kinds([{ offset: '1', timestamp: kafkaTime, value: envelope('c', null, ORDER, 100, at) }], {
        table: 'shop.payments',
      }),
    ).toEqual(['TABLE_MISMATCH source.table']);
  });
});

describe('contentsFrom', () => {
  const decoded = decodeBatch('tidemark.shop.orders', 1, messages, decoding());

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
