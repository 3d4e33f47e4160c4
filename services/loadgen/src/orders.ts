import { ORDER_CHANNELS, ORDER_STATUSES } from '@tidemark/contracts';
import type { Knex } from 'knex';
import type { OrderRow } from './plan';

const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;

/** An order as the demo application writes it. */
export type DemoOrder = Omit<OrderRow, 'updated_at'>;

/** A deterministic pseudo-random generator (mulberry32), so a seed reproduces a run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A realistic new order: a customer among `customers`, an amount between 5 and 500 in minor units. */
export function makeOrder(
  random: () => number,
  options: { customers: number; customerPrefix?: string },
) {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  return {
    customer_id: `${options.customerPrefix ?? 'customer'}-${Math.floor(random() * options.customers)}`,
    amount_minor: 500 + Math.floor(random() * 49_500),
    currency: pick(CURRENCIES),
    status: pick(ORDER_STATUSES.slice(0, 2)),
    channel: pick(ORDER_CHANNELS),
  };
}

/** Inserts orders one transaction each, as an application would; returns them as stored. */
export async function writeOrders(
  source: Knex,
  count: number,
  options: { seed?: number; customers?: number; customerPrefix?: string } = {},
): Promise<DemoOrder[]> {
  const random = seededRandom(options.seed ?? Date.now());
  const written: DemoOrder[] = [];
  for (let i = 0; i < count; i += 1) {
    const order = makeOrder(random, {
      customers: options.customers ?? 50,
      customerPrefix: options.customerPrefix,
    });
    const [row] = await source('shop.orders')
      .insert(order)
      .returning([
        'id',
        'customer_id',
        'amount_minor',
        'currency',
        'status',
        'channel',
        'created_at',
      ]);
    written.push({ ...row, amount_minor: Number(row.amount_minor) } as DemoOrder);
  }
  return written;
}
