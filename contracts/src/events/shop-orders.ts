import { z } from 'zod';
import { defineEventContract } from './contract';

/** Debezium's ZonedTimestamp: ISO-8601 with an offset, up to microsecond precision. */
export const zonedTimestamp = z.iso.datetime({ offset: true });

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'cancelled', 'refunded'] as const;

/** shop.orders, version 1. */
export const ordersV1 = defineEventContract({
  table: 'shop.orders',
  version: 1,
  row: z.object({
    id: z.uuid(),
    customer_id: z.string().min(1),
    amount_minor: z.number().int().nonnegative(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO-4217 code such as EUR'),
    status: z.enum(ORDER_STATUSES),
    created_at: zonedTimestamp,
    updated_at: zonedTimestamp,
  }),
  primaryKey: ['id'],
  eventTimeField: 'created_at',
  idempotencyKey: ['id'],
  owner: 'shop-team',
  piiFields: ['customer_id'],
  compatibility: 'BACKWARD',
});

export type OrderRowV1 = z.infer<typeof ordersV1.row>;
