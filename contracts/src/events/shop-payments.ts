import { z } from 'zod';
import { defineEventContract } from './contract';
import { zonedTimestamp } from './shop-orders';

export const PAYMENT_STATUSES = ['authorized', 'captured', 'failed', 'refunded'] as const;

/** shop.payments, version 1. */
export const paymentsV1 = defineEventContract({
  table: 'shop.payments',
  version: 1,
  row: z.object({
    id: z.uuid(),
    order_id: z.uuid(),
    amount_minor: z.number().int().nonnegative(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO-4217 code such as EUR'),
    method: z.enum(['card', 'bank_transfer', 'wallet']),
    status: z.enum(PAYMENT_STATUSES),
    created_at: zonedTimestamp,
    updated_at: zonedTimestamp,
  }),
  primaryKey: ['id'],
  eventTimeField: 'created_at',
  idempotencyKey: ['id'],
  owner: 'payments-team',
  piiFields: [],
  compatibility: 'BACKWARD',
});

export type PaymentRowV1 = z.infer<typeof paymentsV1.row>;
