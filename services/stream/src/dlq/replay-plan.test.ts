import { currentContract, decodeChange, ordersV1, type EventContract } from '@tidemark/contracts';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decideReplay,
  describeReplayFailure,
  messageKeyOf,
  planReplay,
  type DeadLetterRecord,
  type ReplayValidator,
} from './replay-plan';

// Messages captured from the real Debezium connector, kept byte for byte with their keys.
const FIXTURES = new URL('../../../../contracts/fixtures/debezium/', import.meta.url);

interface Fixture {
  topic: string;
  key: string;
  value: string | null;
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Fixture;
}

function validatorFor(contractFor: (table: string) => EventContract | undefined): ReplayValidator {
  return {
    decode: (raw) => decodeChange(raw, contractFor),
    keyFields: (table) => contractFor(table)?.primaryKey,
  };
}

const CURRENT = validatorFor(currentContract);

let nextId = 1;
function deadLetterOf(raw: Buffer | null, topic = 'tidemark.shop.orders'): DeadLetterRecord {
  const id = nextId++;
  return {
    id,
    raw,
    kafkaTopic: topic,
    kafkaPartition: 2,
    kafkaOffset: String(1000 + id),
    receivedAt: new Date('2026-11-22T22:45:43.000Z'),
  };
}

function deadLetterFromFixture(name: string): { deadLetter: DeadLetterRecord; captured: Fixture } {
  const captured = fixture(name);
  const raw = captured.value === null ? null : Buffer.from(captured.value, 'utf8');
  return { deadLetter: deadLetterOf(raw, captured.topic), captured };
}

describe('decideReplay', () => {
  it.each([
    'orders-v1-c.json',
    'orders-v1-u.json',
    'orders-v1-d.json',
    'orders-v2-c.json',
    'orders-v2-u.json',
    'orders-v2-d.json',
    'payments-c.json',
    'payments-u.json',
    'payments-d.json',
  ])('%s passes and is re-injected as its original bytes, partition and key', (name) => {
    const { deadLetter, captured } = deadLetterFromFixture(name);
    const decision = decideReplay(deadLetter, CURRENT);
    if (decision.kind !== 'passes') throw new Error(`expected a pass, got ${decision.kind}`);
    expect(decision.message).toEqual({
      topic: captured.topic,
      partition: 2,
      key: captured.key,
      value: deadLetter.raw,
    });
    expect(decision.message.value).toBe(deadLetter.raw);
    expect(decision.lsn).toBeGreaterThan(0);
  });

  it('keeps failing a poison order, with every issue found now', () => {
    const { deadLetter } = deadLetterFromFixture('orders-v2-c-poison-currency.json');
    const decision = decideReplay(deadLetter, CURRENT);
    expect(decision).toMatchObject({
      kind: 'still_failing',
      error: {
        code: 'CONTRACT_VIOLATION',
        path: 'after.currency',
        issues: [{ code: 'invalid_format', path: 'after.currency' }],
      },
    });
    expect(decision.kind === 'still_failing' && 'raw' in decision.error).toBe(false);
  });

  it('passes an order a previous contract rejected once the current contract knows its column', () => {
    const { deadLetter, captured } = deadLetterFromFixture('orders-v2-c.json');
    expect(
      decideReplay(
        deadLetter,
        validatorFor(() => ordersV1),
      ),
    ).toMatchObject({
      kind: 'still_failing',
      error: { code: 'CONTRACT_VIOLATION', path: 'after.channel' },
    });
    expect(decideReplay(deadLetter, CURRENT)).toMatchObject({
      kind: 'passes',
      table: 'shop.orders',
      op: 'c',
      message: { key: captured.key },
    });
  });

  it('passes a hand-made envelope whose row is valid', () => {
    const poison = fixture('orders-v1-c-poison-currency.json');
    const repaired = (poison.value ?? '').replace('"currency":"eur"', '"currency":"EUR"');
    expect(repaired).not.toBe(poison.value);
    const decision = decideReplay(deadLetterOf(Buffer.from(repaired)), CURRENT);
    expect(decision).toMatchObject({ kind: 'passes', message: { key: poison.key } });
  });

  it('treats a tombstone and a dead letter without bytes as no change to re-inject', () => {
    const { deadLetter } = deadLetterFromFixture('orders-v2-tombstone.json');
    expect(decideReplay(deadLetter, CURRENT)).toMatchObject({
      kind: 'not_a_change',
      reason: 'no raw bytes were kept',
    });
    const nullPayload = Buffer.from(JSON.stringify({ schema: null, payload: null }));
    expect(decideReplay(deadLetterOf(nullPayload), CURRENT)).toMatchObject({
      kind: 'not_a_change',
      reason: 'a tombstone, not a change event',
    });
  });

  it('keeps failing bytes that are not JSON', () => {
    const decision = decideReplay(deadLetterOf(Buffer.from('{"op": "c",')), CURRENT);
    expect(decision).toMatchObject({
      kind: 'still_failing',
      error: { code: 'NOT_JSON', issues: [{ code: 'NOT_JSON', path: '$' }] },
    });
  });

  it('re-injects a truncate without a key once its contract allows truncates', () => {
    const truncate = deadLetterOf(
      Buffer.from(
        JSON.stringify({
          before: null,
          after: null,
          source: { schema: 'shop', table: 'orders', ts_ms: 1, lsn: null, txId: 5 },
          op: 't',
          ts_ms: 2,
        }),
      ),
    );
    expect(decideReplay(truncate, CURRENT)).toMatchObject({
      kind: 'still_failing',
      error: { code: 'TRUNCATE_NOT_ALLOWED' },
    });
    const allowing = validatorFor((table) =>
      table === 'shop.orders' ? { ...ordersV1, allowsTruncate: true } : undefined,
    );
    expect(decideReplay(truncate, allowing)).toMatchObject({
      kind: 'passes',
      op: 't',
      message: { key: null },
    });
  });
});

describe('decideReplay, as the pipeline reading the topic would', () => {
  const orders = fixture('orders-v2-c.json');
  const raw = Buffer.from(orders.value as string);

  it("leaves a change of another table than its topic's failing", () => {
    const byTopic: ReplayValidator = {
      decode: (bytes, topic) =>
        decodeChange(bytes, currentContract, {
          table: topic === 'tidemark.shop.payments' ? 'shop.payments' : 'shop.orders',
        }),
      keyFields: (table) => currentContract(table)?.primaryKey,
    };
    expect(decideReplay(deadLetterOf(raw, 'tidemark.shop.payments'), byTopic)).toMatchObject({
      kind: 'still_failing',
      error: { code: 'TABLE_MISMATCH', path: 'source.table' },
    });
    expect(decideReplay(deadLetterOf(raw, 'tidemark.shop.orders'), byTopic).kind).toBe('passes');
  });

  it('leaves an implausible change failing rather than re-inject it to be refused again', () => {
    const judging: ReplayValidator = {
      ...CURRENT,
      implausible: (event) =>
        event.source.committedAtMs > 0
          ? { path: 'source.ts_ms', message: 'too far ahead' }
          : undefined,
    };
    expect(decideReplay(deadLetterOf(raw), judging)).toEqual({
      kind: 'still_failing',
      deadLetter: expect.anything(),
      error: {
        code: 'IMPLAUSIBLE',
        path: 'source.ts_ms',
        message: 'too far ahead',
        issues: [{ code: 'IMPLAUSIBLE', path: 'source.ts_ms', message: 'too far ahead' }],
      },
    });
  });
});

describe('planReplay', () => {
  it('decides every dead letter, in the order given', () => {
    const rows = [
      deadLetterFromFixture('orders-v2-c-poison-currency.json').deadLetter,
      deadLetterFromFixture('orders-v2-c.json').deadLetter,
      deadLetterFromFixture('payments-tombstone.json').deadLetter,
    ];
    const plan = planReplay(rows, CURRENT);
    expect(plan.map((decision) => [decision.deadLetter.id, decision.kind])).toEqual([
      [rows[0]?.id, 'still_failing'],
      [rows[1]?.id, 'passes'],
      [rows[2]?.id, 'not_a_change'],
    ]);
  });
});

describe('messageKeyOf', () => {
  it('takes the key columns in key order from the after image, or the before image of a delete', () => {
    const row = { b: 2, a: 'x', c: true };
    const raw = (payload: unknown) => Buffer.from(JSON.stringify(payload));
    expect(messageKeyOf(raw({ before: null, after: row }), ['a', 'b'])).toBe('{"a":"x","b":2}');
    expect(messageKeyOf(raw({ before: row, after: null }), ['c'])).toBe('{"c":true}');
    expect(messageKeyOf(raw({ schema: {}, payload: { before: null, after: row } }), ['a'])).toBe(
      '{"a":"x"}',
    );
  });

  it('gives no key when it cannot be recovered', () => {
    const raw = Buffer.from(JSON.stringify({ before: null, after: { a: 1 } }));
    expect(messageKeyOf(raw, ['id'])).toBeNull();
    expect(messageKeyOf(raw, undefined)).toBeNull();
    expect(messageKeyOf(Buffer.from('not json'), ['id'])).toBeNull();
  });
});

describe('describeReplayFailure', () => {
  it('names the first issue and counts the others', () => {
    expect(
      describeReplayFailure({
        code: 'CONTRACT_VIOLATION',
        path: 'after.currency',
        message: 'shop.orders v2: an ISO-4217 code such as EUR',
        issues: [
          { code: 'invalid_format', path: 'after.currency', message: 'x' },
          { code: 'too_small', path: 'after.amount_minor', message: 'y' },
        ],
      }),
    ).toBe(
      'CONTRACT_VIOLATION at after.currency: shop.orders v2: an ISO-4217 code such as EUR (+1 more issue)',
    );
  });
});
