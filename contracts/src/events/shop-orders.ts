import { z } from 'zod';
import { timestamptz, uuid } from '../debezium/encodings';
import { defineEventContract } from './contract';

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'cancelled', 'refunded'] as const;
export const ORDER_CHANNELS = ['web', 'app', 'store'] as const;

const CURRENCY = z.string().regex(/^[A-Z]{3}$/, 'an ISO-4217 code such as EUR');

// Closed content model: a column the contract does not know is a violation (dead-lettered and
// replayable once a new version knows it), never silently dropped.
const ORDER_V1_FIELDS = {
  id: uuid(),
  customer_id: z.string().min(1),
  amount_minor: z.int().nonnegative(),
  currency: CURRENCY,
  status: z.enum(ORDER_STATUSES),
  created_at: timestamptz(),
  updated_at: timestamptz(),
};

/** shop.orders, version 1. */
export const ordersV1 = defineEventContract({
  table: 'shop.orders',
  version: 1,
  row: z.strictObject(ORDER_V1_FIELDS),
  primaryKey: ['id'],
  eventTimeField: 'created_at',
  idempotencyKey: ['id'],
  owner: 'shop-team',
  piiFields: ['customer_id'],
  compatibility: 'BACKWARD',
});

/** shop.orders, version 2: adds the nullable sales `channel` (migration 0002-order-channel). */
export const ordersV2 = defineEventContract({
  ...ordersV1,
  version: 2,
  row: z.strictObject({ ...ORDER_V1_FIELDS, channel: z.enum(ORDER_CHANNELS).nullish() }),
});

export type OrderRowV1 = z.output<typeof ordersV1.row>;
export type OrderRowV2 = z.output<typeof ordersV2.row>;
