import { describe, expect, it } from 'vitest';
import { changesOf, toTransactions, type Statement } from './batch';
import { LoadPlan, type LoadOperation } from './plan';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');

function plan(count: number, options: ConstructorParameters<typeof LoadPlan>[0] = {}) {
  const loadPlan = new LoadPlan({ seed: 3, ...options });
  return Array.from({ length: count }, () => loadPlan.next(NOW));
}

/** Runs statements against an in-memory model of the two tables, as PostgreSQL would check them. */
function execute(
  statements: readonly Statement[],
  orders: Set<string>,
  payments: Map<string, string>,
) {
  for (const statement of statements) {
    switch (statement.kind) {
      case 'insert_orders':
        for (const row of statement.rows) {
          expect(orders.has(row.id)).toBe(false);
          orders.add(row.id);
        }
        break;
      case 'insert_payments':
        for (const row of statement.rows) {
          expect(orders.has(row.order_id), `payment ${row.id} references a missing order`).toBe(
            true,
          );
          payments.set(row.id, row.order_id);
        }
        break;
      case 'update_order':
        expect(orders.has(statement.id)).toBe(true);
        break;
      case 'delete_order':
        expect(orders.delete(statement.id)).toBe(true);
        for (const [payment, order] of payments)
          if (order === statement.id) payments.delete(payment);
        break;
      case 'change_order_id':
        expect(orders.delete(statement.id)).toBe(true);
        expect([...payments.values()]).not.toContain(statement.id);
        orders.add(statement.newId);
        break;
    }
  }
}

describe('toTransactions', () => {
  it('inserts new orders first in one statement and keeps the rest in plan order', () => {
    const operations = plan(40, { payments: 0.3, updates: 0.2, duplicates: 0 });
    const [transaction, ...rest] = toTransactions(operations);
    expect(rest).toHaveLength(0);
    const statements = transaction?.statements ?? [];
    expect(statements[0]?.kind).toBe('insert_orders');
    expect(statements.filter((statement) => statement.kind === 'insert_orders')).toHaveLength(1);
    expect(transaction?.operations).toEqual(operations);
    const others = statements.slice(1).flatMap((statement) => statement.operations);
    expect(others).toEqual(operations.filter((operation) => operation.kind !== 'insert_order'));
  });

  it('puts consecutive payments in one statement', () => {
    const operations = plan(200, {
      payments: 0.9,
      updates: 0,
      deletes: 0,
      duplicates: 0,
      pkChanges: 0,
    });
    const statements = toTransactions(operations).flatMap((transaction) => transaction.statements);
    expect(statements.map((statement) => statement.kind)).toEqual([
      'insert_orders',
      'insert_payments',
    ]);
  });

  it('retries a duplicated update in the next transaction, with the very same statement', () => {
    const operations = plan(300, { duplicates: 0.05 });
    const duplicates = operations.filter((operation) => operation.kind === 'duplicate_update');
    const transactions = toTransactions(operations);
    expect(transactions).toHaveLength(duplicates.length + 1);
    for (const [index, duplicate] of duplicates.entries()) {
      const first = transactions[index]?.statements.at(-1);
      const retry = transactions[index + 1]?.statements.find(
        (statement) => statement.kind === 'update_order' && statement.operations[0] === duplicate,
      );
      expect(first).toMatchObject({ kind: 'update_order', id: duplicate.before.id });
      expect(retry).toEqual(first);
      // The operation counts once, when its retry commits.
      expect(transactions[index + 1]?.operations).toContain(duplicate);
      expect(transactions[index]?.operations).not.toContain(duplicate);
    }
  });

  it('caps the operations per transaction and loses none', () => {
    const operations = plan(1000, { duplicates: 0 });
    const transactions = toTransactions(operations, 64);
    for (const transaction of transactions)
      expect(transaction.operations.length).toBeLessThanOrEqual(64);
    expect(transactions.flatMap((transaction) => transaction.operations)).toEqual(operations);
  });

  it('orders statements so that every one finds what it needs, for a busy plan', () => {
    const operations = plan(20_000, {
      updates: 0.2,
      deletes: 0.1,
      duplicates: 0.05,
      pkChanges: 0.05,
      payments: 0.3,
      poison: 0.01,
    });
    const orders = new Set<string>();
    const payments = new Map<string, string>();
    // In chunks, as a connection takes what queued up between two transactions.
    for (let start = 0; start < operations.length; start += 97) {
      for (const transaction of toTransactions(operations.slice(start, start + 97), 40)) {
        execute(transaction.statements, orders, payments);
      }
    }
    expect(orders.size).toBeGreaterThan(1000);
  });
});

describe('changesOf', () => {
  it('counts the row changes PostgreSQL logs for an operation', () => {
    const byKind = new Map<string, LoadOperation>();
    for (const operation of plan(5000, { deletes: 0.1, duplicates: 0.05, pkChanges: 0.05 })) {
      if (operation.kind !== 'delete_order' || operation.payments > 0)
        byKind.set(operation.kind, operation);
    }
    const deleteWithPayments = plan(20_000, { deletes: 0.1, payments: 0.5 }).find(
      (operation) => operation.kind === 'delete_order' && operation.payments > 0,
    );
    expect(changesOf(byKind.get('insert_order') as LoadOperation)).toBe(1);
    expect(changesOf(byKind.get('duplicate_update') as LoadOperation)).toBe(2);
    expect(changesOf(byKind.get('change_order_id') as LoadOperation)).toBe(1);
    expect(deleteWithPayments).toBeDefined();
    const payments = deleteWithPayments?.kind === 'delete_order' ? deleteWithPayments.payments : 0;
    expect(changesOf(deleteWithPayments as LoadOperation)).toBe(1 + payments);
  });
});
