import type { ChangeEvent, Row } from '@tidemark/contracts';
import type { KeyedChange } from './plan';

// Changes of shop.orders for the planner's unit tests: a row from a few fields, and its change
// with a given LSN (committed at T0 + lsn).

export const T0 = Date.parse('2026-11-23T10:00:00Z');

/** An order row, paid in EUR by customer-1 at T0, with `fields` changed. */
export function order(id: string, fields: Partial<Row> = {}): Row {
  return {
    id,
    customer_id: 'customer-1',
    amount_minor: 1000,
    currency: 'EUR',
    status: 'paid',
    channel: null,
    created_at: new Date(T0).toISOString(),
    updated_at: new Date(T0).toISOString(),
    ...fields,
  };
}

/** The change of an order row from `before` to `after`, at `lsn`. */
export function change(
  op: ChangeEvent['op'],
  before: Row | null,
  after: Row | null,
  lsn: number,
): KeyedChange {
  const id = String((after ?? before)?.id);
  return {
    table: 'shop.orders',
    primaryKey: JSON.stringify({ id }),
    event: {
      op,
      before,
      after,
      source: {
        schema: 'shop',
        table: 'orders',
        lsn,
        txId: lsn,
        committedAtMs: T0 + lsn,
        snapshot: false,
      },
      capturedAtMs: T0 + lsn,
      contractVersion: 2,
    },
  };
}
