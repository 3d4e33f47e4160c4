import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shardOf } from './shards';

describe('shardOf', () => {
  it('gives every key one shard among those there are, the same in every process', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 64 }), (metric, key, n) => {
        const shard = shardOf(metric, key, n);
        expect(Number.isInteger(shard) && shard >= 0 && shard < n).toBe(true);
        expect(shardOf(metric, key, n)).toBe(shard);
      }),
    );
    // Fixed values: a change of hash would move every window to another emitter mid-upgrade.
    expect(shardOf('orders_per_minute', '["EUR"]', 4)).toBe(3);
    expect(shardOf('orders_per_minute', '["EUR"]', 2_905_479_544)).toBe(2_905_479_543);
    expect([0, 1, 2, 3, 4, 5].map((n) => shardOf('revenue_per_minute', `["K${n}"]`, 1))).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
  });

  it('spreads keys over the shards', () => {
    const counts = new Array(4).fill(0);
    for (let customer = 0; customer < 4_000; customer += 1) {
      counts[shardOf('customer_sessions', `["customer-${customer}"]`, 4)] += 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('refuses a shard count that is not a positive integer', () => {
    expect(() => shardOf('m', 'k', 0)).toThrow(/at least one shard/);
    expect(() => shardOf('m', 'k', 1.5)).toThrow(/at least one shard/);
  });
});
