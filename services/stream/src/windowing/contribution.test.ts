import { ordersPerMinute, paymentFailureRate, revenuePerMinute } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { contributionOf, holds } from './contribution';

const order = {
  id: '5f0c6f5e-8d2b-4c1e-9a53-3f1d2b6a7c90',
  customer_id: 'customer-1',
  amount_minor: 1250,
  currency: 'EUR',
  status: 'paid',
  channel: 'web',
  created_at: '2026-11-23T10:03:30.123456Z',
  updated_at: '2026-11-23T10:03:30.123456Z',
};

describe('contributionOf', () => {
  it('keys, times and measures a row', () => {
    expect(contributionOf(revenuePerMinute, order)).toEqual({
      groupKey: '["EUR"]',
      keyValues: ['EUR'],
      eventTimeMs: Date.parse('2026-11-23T10:03:30.123Z'),
      measure: 1250,
    });
  });

  it('excludes rows the filter rejects', () => {
    expect(contributionOf(ordersPerMinute, { ...order, status: 'cancelled' })).toBeNull();
    expect(contributionOf(revenuePerMinute, { ...order, status: 'refunded' })).toBeNull();
  });

  it('measures an indicator as 1 or 0', () => {
    const payment = { method: 'card', status: 'failed', created_at: order.created_at };
    expect(contributionOf(paymentFailureRate, payment)?.measure).toBe(1);
    expect(contributionOf(paymentFailureRate, { ...payment, status: 'captured' })?.measure).toBe(0);
  });
});

describe('holds (SQL three-valued logic)', () => {
  const row = { status: null, fee: '12.5000', amount: 10 };
  it('never holds a comparison with NULL, except is_null', () => {
    expect(holds({ field: 'status', op: 'eq', value: 'paid' }, row)).toBe(false);
    expect(holds({ field: 'status', op: 'neq', value: 'paid' }, row)).toBe(false);
    expect(holds({ field: 'status', op: 'not_in', value: ['paid'] }, row)).toBe(false);
    expect(holds({ field: 'status', op: 'is_null' }, row)).toBe(true);
    expect(holds({ field: 'status', op: 'is_not_null' }, row)).toBe(false);
  });

  it('compares decimal strings with numbers numerically', () => {
    expect(holds({ field: 'fee', op: 'eq', value: 12.5 }, row)).toBe(true);
    expect(holds({ field: 'fee', op: 'gt', value: 12 }, row)).toBe(true);
    expect(holds({ field: 'amount', op: 'lte', value: 9 }, row)).toBe(false);
    expect(holds({ field: 'amount', op: 'in', value: [1, 10] }, row)).toBe(true);
  });
});
