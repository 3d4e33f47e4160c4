import type { LoadOperation, OrderPatch, OrderRow, PaymentRow } from './plan';

/** One SQL statement of a planned transaction, with the operations it writes. */
export type Statement =
  | { kind: 'insert_orders'; rows: OrderRow[]; operations: LoadOperation[] }
  | { kind: 'insert_payments'; rows: PaymentRow[]; operations: LoadOperation[] }
  | { kind: 'update_order'; id: string; set: OrderPatch; operations: LoadOperation[] }
  | { kind: 'delete_order'; id: string; operations: LoadOperation[] }
  | { kind: 'change_order_id'; id: string; newId: string; operations: LoadOperation[] };

/** Statements run in one transaction; `operations` are complete once it commits. */
export interface PlannedTransaction {
  statements: Statement[];
  operations: LoadOperation[];
}

/**
 * Groups operations (in plan order, all of one connection) into short transactions of few
 * statements: new orders depend on nothing, so each transaction inserts them first in one
 * statement; consecutive payments share one statement; everything else keeps plan order. A
 * duplicated update ends a transaction after its first run and retries in the next one, as a
 * client that timed out would.
 */
export function toTransactions(
  operations: readonly LoadOperation[],
  maxOperations = Number.POSITIVE_INFINITY,
): PlannedTransaction[] {
  const transactions: PlannedTransaction[] = [];
  let orders: Extract<Statement, { kind: 'insert_orders' }> | undefined;
  let current: PlannedTransaction = { statements: [], operations: [] };
  const close = () => {
    if (orders) current.statements.unshift(orders);
    if (current.statements.length > 0) transactions.push(current);
    current = { statements: [], operations: [] };
    orders = undefined;
  };
  for (const operation of operations) {
    if (current.operations.length >= maxOperations) close();
    switch (operation.kind) {
      case 'insert_order':
        orders ??= { kind: 'insert_orders', rows: [], operations: [] };
        orders.rows.push(operation.row);
        orders.operations.push(operation);
        break;
      case 'insert_payment': {
        const last = current.statements.at(-1);
        if (last?.kind === 'insert_payments') {
          last.rows.push(operation.row);
          last.operations.push(operation);
        } else {
          current.statements.push({
            kind: 'insert_payments',
            rows: [operation.row],
            operations: [operation],
          });
        }
        break;
      }
      case 'update_order':
        current.statements.push({
          kind: 'update_order',
          id: operation.before.id,
          set: operation.set,
          operations: [operation],
        });
        break;
      case 'duplicate_update': {
        const update: Statement = {
          kind: 'update_order',
          id: operation.before.id,
          set: operation.set,
          operations: [operation],
        };
        current.statements.push(update);
        close();
        current.statements.push({ ...update });
        break;
      }
      case 'delete_order':
        current.statements.push({
          kind: 'delete_order',
          id: operation.before.id,
          operations: [operation],
        });
        break;
      case 'change_order_id':
        current.statements.push({
          kind: 'change_order_id',
          id: operation.before.id,
          newId: operation.after.id,
          operations: [operation],
        });
        break;
    }
    current.operations.push(operation);
  }
  close();
  return transactions;
}

/** Row changes PostgreSQL logs for an operation (a delete also removes the order's payments). */
export function changesOf(operation: LoadOperation): number {
  if (operation.kind === 'duplicate_update') return 2;
  if (operation.kind === 'delete_order') return 1 + operation.payments;
  return 1;
}
