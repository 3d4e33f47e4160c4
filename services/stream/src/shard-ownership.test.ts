import { ordersPerMinute, paymentFailureRate } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { ShardOwnership } from './shard-ownership';

const TOPICS = new Map([
  ['shop.orders', 't.orders'],
  ['shop.payments', 't.payments'],
]);

describe('ShardOwnership', () => {
  it('owns the shards of the partitions assigned, as of the last assignment', () => {
    const ownership = new ShardOwnership(TOPICS);
    expect(ownership.ownedShards(ordersPerMinute)).toEqual([]);
    ownership.assign('t.orders', 4, new Set([1, 3]));
    ownership.assign('t.payments', 2, new Set([0]));
    expect(ownership.ownedShards(ordersPerMinute)).toEqual([1, 3]);
    expect(ownership.ownedShards(paymentFailureRate)).toEqual([0]);
    expect(ownership.ownsAll(new Map([['t.orders', new Set([1, 3])]]))).toBe(true);
    expect(ownership.ownsAll(new Map([['t.orders', new Set([1, 2])]]))).toBe(false);
    expect(ownership.ownsAll(new Map([['t.other', new Set([0])]]))).toBe(false);
    ownership.assign('t.orders', 4, new Set([2]));
    expect(ownership.ownedShards(ordersPerMinute)).toEqual([2]);
  });

  it('knows the shard count of a batch from its topic, and refuses before the assignment', () => {
    const ownership = new ShardOwnership(TOPICS);
    expect(() => ownership.batchSource('t.orders', 0).shardsOf(ordersPerMinute)).toThrow(
      /no partition count for shop.orders/,
    );
    ownership.assign('t.orders', 6, new Set([0]));
    expect(ownership.batchSource('t.orders', 0).shardsOf(ordersPerMinute)).toBe(6);
  });
});
