import type { MetricDefinition } from './definition';
import { defineMetric, MINUTE, SECOND } from './define';

export { defineMetric } from './define';

// The metric catalogue. The shop's metrics are defined here; a team's own each have a file
// beside this one (`tidemark new metric` writes it) and are listed in METRICS below.

/** Orders placed per minute, by currency; cancelled orders do not count. */
export const ordersPerMinute = defineMetric({
  name: 'orders_per_minute',
  description: 'Orders placed per minute, by currency (cancelled orders excluded).',
  owner: 'shop-team',
  source: { table: 'shop.orders', contractVersion: 2 },
  eventTimeField: 'created_at',
  keys: ['currency'],
  aggregate: { fn: 'count' },
  filter: [{ field: 'status', op: 'neq', value: 'cancelled' }],
  window: { kind: 'tumbling', sizeMs: MINUTE },
  outOfOrdernessMs: 5 * SECOND,
  allowedLatenessMs: 5 * MINUTE,
  emit: { kind: 'on_update' },
});

/** Revenue per minute in minor units, by currency, of orders not cancelled or refunded. */
export const revenuePerMinute = defineMetric({
  name: 'revenue_per_minute',
  description: 'Revenue per minute in minor units, by currency (cancelled and refunded excluded).',
  owner: 'finance',
  source: { table: 'shop.orders', contractVersion: 2 },
  eventTimeField: 'created_at',
  keys: ['currency'],
  aggregate: { fn: 'sum', of: { field: 'amount_minor' } },
  filter: [{ field: 'status', op: 'not_in', value: ['cancelled', 'refunded'] }],
  window: { kind: 'tumbling', sizeMs: MINUTE },
  outOfOrdernessMs: 5 * SECOND,
  allowedLatenessMs: 5 * MINUTE,
  emit: { kind: 'every', intervalMs: 5 * SECOND },
});

/** Share of payments that failed over the last 5 minutes, sliding every minute, by method. */
export const paymentFailureRate = defineMetric({
  name: 'payment_failure_rate',
  description:
    'Share of payment attempts that failed, over 5 minutes sliding every minute, by method.',
  owner: 'payments-team',
  source: { table: 'shop.payments', contractVersion: 1 },
  eventTimeField: 'created_at',
  keys: ['method'],
  aggregate: { fn: 'avg', of: { indicator: { field: 'status', op: 'eq', value: 'failed' } } },
  filter: [],
  window: { kind: 'hopping', sizeMs: 5 * MINUTE, slideMs: MINUTE },
  outOfOrdernessMs: 5 * SECOND,
  allowedLatenessMs: 10 * MINUTE,
  emit: { kind: 'on_window_close' },
});

/** Orders per customer activity session: sessions close after 30 minutes without an order. */
export const customerSessions = defineMetric({
  name: 'customer_sessions',
  description: 'Orders per customer activity session (a session ends after a 30-minute gap).',
  owner: 'growth',
  source: { table: 'shop.orders', contractVersion: 2 },
  eventTimeField: 'created_at',
  keys: ['customer_id'],
  aggregate: { fn: 'count' },
  filter: [],
  window: { kind: 'session', gapMs: 30 * MINUTE },
  outOfOrdernessMs: 5 * SECOND,
  allowedLatenessMs: 30 * MINUTE,
  emit: { kind: 'on_window_close' },
});

/**
 * The demo shop's metrics: one per window kind at least. Tests that reason about the shop's
 * numbers use this list, not METRICS, so a team's own metrics never change what they expect.
 */
export const SHOP_METRICS = [
  ordersPerMinute,
  revenuePerMinute,
  paymentFailureRate,
  customerSessions,
] as const;

/** Every metric tidemark computes, provisional and final alike: the shop's, then a team's own. */
export const METRICS: readonly MetricDefinition[] = [...SHOP_METRICS];
