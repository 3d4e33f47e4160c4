import { ordersV2 } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { makeOrder, seededRandom } from './orders';

describe('makeOrder', () => {
  it('is reproducible from a seed', () => {
    const first = makeOrder(seededRandom(7), { customers: 10 });
    const second = makeOrder(seededRandom(7), { customers: 10 });
    expect(second).toEqual(first);
  });

  it('writes orders that satisfy the orders contract', () => {
    const random = seededRandom(42);
    for (let i = 0; i < 200; i += 1) {
      const order = makeOrder(random, { customers: 5 });
      const row = {
        ...order,
        id: '5f0c6f5e-8d2b-4c1e-9a53-3f1d2b6a7c90',
        created_at: '2026-11-22T10:00:00.000000Z',
        updated_at: '2026-11-22T10:00:00.000000Z',
      };
      expect(ordersV2.row.safeParse(row).success).toBe(true);
      expect(order.customer_id).toMatch(/^customer-[0-4]$/);
    }
  });
});
