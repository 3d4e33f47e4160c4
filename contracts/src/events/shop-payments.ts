import { z } from 'zod';
import { date, decimal, json, timestamptz, uuid } from '../debezium/encodings';
import { defineEventContract } from './contract';

export const PAYMENT_STATUSES = ['authorized', 'captured', 'failed', 'refunded'] as const;
export const PAYMENT_METHODS = ['card', 'bank_transfer', 'wallet'] as const;

/** shop.payments, version 1. */
export const paymentsV1 = defineEventContract({
  table: 'shop.payments',
  version: 1,
  row: z.strictObject({
    id: uuid(),
    order_id: uuid(),
    amount_minor: z.int().nonnegative(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO-4217 code such as EUR'),
    method: z.enum(PAYMENT_METHODS),
    status: z.enum(PAYMENT_STATUSES),
    fee: decimal().nullable(),
    settled_on: date().nullable(),
    gateway_response: json().nullable(),
    created_at: timestamptz(),
    updated_at: timestamptz(),
  }),
  primaryKey: ['id'],
  eventTimeField: 'created_at',
  idempotencyKey: ['id'],
  owner: 'payments-team',
  piiFields: ['gateway_response'],
  compatibility: 'BACKWARD',
});

export type PaymentRowV1 = z.output<typeof paymentsV1.row>;
