import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentContract } from '../events/registry';
import { decodeChange } from './envelope';
import { ordersV1 } from '../events/shop-orders';

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
    ['orders-v1-c.json', 'c', false, true],
    ['orders-v1-u.json', 'u', true, true],
    ['orders-v1-d.json', 'd', true, false],
    ['orders-v2-c.json', 'c', false, true],
    ['orders-v2-u.json', 'u', true, true],
    ['orders-v2-d.json', 'd', true, false],
    ['payments-c.json', 'c', false, true],
    ['payments-u.json', 'u', true, true],
    ['payments-d.json', 'd', true, false],
  ])('%s decodes as op %s under the current contract', (name, op, hasBefore, hasAfter) => {
    const result = decodeChange(fixture(name), currentContract);
    if (result.kind !== 'change')
      throw new Error(`expected a change, got ${JSON.stringify(result)}`);
    expect(result.event.op).toBe(op);
    expect(result.event.before !== null).toBe(hasBefore);
    expect(result.event.after !== null).toBe(hasAfter);
    expect(result.event.source.lsn).toBeGreaterThan(0);
    expect(result.event.source.txId).toBeGreaterThan(0);
    expect(result.event.contractVersion).toBe(name.startsWith('payments') ? 1 : 2);
  });

  it('rolls orders forward: v1 events (no channel column yet) and v2 events both decode', () => {
    const v1 = decodeChange(fixture('orders-v1-c.json'), currentContract);
    const v2 = decodeChange(fixture('orders-v2-c.json'), currentContract);
    expect(v1.kind === 'change' && v1.event.after).not.toHaveProperty('channel');
    expect(v2.kind === 'change' && v2.event.after).toMatchObject({ channel: 'web' });
    expect(decodeChange(fixture('orders-v1-c.json'), () => ordersV1).kind).toBe('change');
  });

  it('dead-letters a v2 event under v1, naming the column v1 does not know', () => {
    expect(decodeChange(fixture('orders-v2-c.json'), () => ordersV1)).toMatchObject({
      kind: 'error',
      error: { code: 'CONTRACT_VIOLATION', path: 'after.channel' },
    });
  });

  it('keeps the update of an order with its before image', () => {
    const result = decodeChange(fixture('orders-v2-u.json'), currentContract);
    expect(result).toMatchObject({
      kind: 'change',
      event: {
        before: { status: 'pending' },
        after: { status: 'paid', amount_minor: 4999, currency: 'EUR' },
      },
    });
  });

  it("decodes Debezium's numeric, date and jsonb encodings of a payment", () => {
    const result = decodeChange(fixture('payments-c.json'), currentContract);
    if (result.kind !== 'change') throw new Error('expected a change');
    expect(result.event.after).toMatchObject({ fee: '1.2345', settled_on: '2026-11-23' });
    const response = result.event.after?.gateway_response as { approved: boolean; trace: string[] };
    expect(response.approved).toBe(true);
    expect(response.trace).toHaveLength(400);
  });

  it('carries an unchanged TOASTed jsonb through an update (REPLICA IDENTITY FULL)', () => {
    const result = decodeChange(fixture('payments-u.json'), currentContract);
    if (result.kind !== 'change') throw new Error('expected a change');
    expect(result.event.after?.gateway_response).toEqual(result.event.before?.gateway_response);
    expect(result.event.after).toMatchObject({ status: 'captured' });
  });

  it('reads the tombstones that follow deletes', () => {
    for (const name of [
      'orders-v1-tombstone.json',
      'orders-v2-tombstone.json',
      'payments-tombstone.json',
    ]) {
      expect(decodeChange(fixture(name), currentContract)).toEqual({ kind: 'tombstone' });
    }
  });

  it('dead-letters the poison orders with the offending field', () => {
    for (const name of ['orders-v1-c-poison-currency.json', 'orders-v2-c-poison-currency.json']) {
      expect(decodeChange(fixture(name), currentContract)).toMatchObject({
        kind: 'error',
        error: { code: 'CONTRACT_VIOLATION', path: 'after.currency' },
      });
    }
  });

  it('covers every captured fixture', () => {
    expect(readdirSync(FIXTURES).length).toBe(14);
  });
});
