import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentContract } from '../events/registry';
import { decodeChange } from './envelope';

// Messages captured from the real Debezium connector of the running stack
// (scripts/capture-debezium-fixtures.ts), kept byte for byte.
const FIXTURES = new URL('../../fixtures/debezium/', import.meta.url);

function fixture(name: string): Buffer | null {
  const { value } = JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as {
    value: string | null;
  };
  return value === null ? null : Buffer.from(value, 'utf8');
}

describe('envelopes captured from the live connector', () => {
  it.each([
    ['orders-c.json', 'c', false, true],
    ['orders-u.json', 'u', true, true],
    ['orders-d.json', 'd', true, false],
    ['payments-c.json', 'c', false, true],
    ['payments-u.json', 'u', true, true],
    ['payments-d.json', 'd', true, false],
  ])('%s decodes as op %s', (name, op, hasBefore, hasAfter) => {
    const result = decodeChange(fixture(name), currentContract);
    if (result.kind !== 'change')
      throw new Error(`expected a change, got ${JSON.stringify(result)}`);
    expect(result.event.op).toBe(op);
    expect(result.event.before !== null).toBe(hasBefore);
    expect(result.event.after !== null).toBe(hasAfter);
    expect(result.event.source.lsn).toBeGreaterThan(0);
    expect(result.event.source.txId).toBeGreaterThan(0);
    expect(result.event.contractVersion).toBe(1);
  });

  it('keeps the update of an order with its before image', () => {
    const result = decodeChange(fixture('orders-u.json'), currentContract);
    expect(result).toMatchObject({
      kind: 'change',
      event: {
        before: { status: 'pending' },
        after: { status: 'paid', amount_minor: 4999, currency: 'EUR' },
      },
    });
  });

  it('reads the tombstones that follow deletes', () => {
    expect(decodeChange(fixture('orders-tombstone.json'), currentContract)).toEqual({
      kind: 'tombstone',
    });
    expect(decodeChange(fixture('payments-tombstone.json'), currentContract)).toEqual({
      kind: 'tombstone',
    });
  });

  it('dead-letters the poison order with the offending field', () => {
    const result = decodeChange(fixture('orders-c-poison-currency.json'), currentContract);
    expect(result).toMatchObject({
      kind: 'error',
      error: { code: 'CONTRACT_VIOLATION', path: 'after.currency' },
    });
  });

  it('covers every captured fixture', () => {
    const files = readdirSync(FIXTURES).sort();
    expect(files).toEqual([
      'orders-c-poison-currency.json',
      'orders-c.json',
      'orders-d.json',
      'orders-tombstone.json',
      'orders-u.json',
      'payments-c.json',
      'payments-d.json',
      'payments-tombstone.json',
      'payments-u.json',
    ]);
  });
});
