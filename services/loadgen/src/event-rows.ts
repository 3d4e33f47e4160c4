import type { OrderRow, PaymentRow } from './plan';

/**
 * An order as a decoded Debezium row image carries it (timestamps as ISO-8601 text), the shape
 * the event contracts validate; lets tests and pure pipelines use a plan without the stack.
 */
export function orderEventRow(row: OrderRow): Record<string, unknown> {
  return {
    ...row,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** A payment as a decoded Debezium row image carries it (jsonb as text, timestamps as ISO-8601). */
export function paymentEventRow(row: PaymentRow): Record<string, unknown> {
  return {
    ...row,
    gateway_response: row.gateway_response === null ? null : JSON.stringify(row.gateway_response),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
