import { ordersV2, paymentsV1 } from '@tidemark/contracts';
import { createDatabase, loadConfig, TidemarkError } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { orderEventRow, paymentEventRow } from './event-rows';
import type { LoadOperation, OrderRow, PaymentRow } from './plan';
import { runLoad } from './runner';

const source = createDatabase(loadConfig().source);
const LATE_BY_MS = 15 * 60_000;

afterAll(async () => {
  await source.destroy();
});

/** Currency codes no other test uses, so metric keys derived from them are this run's alone. */
function uniqueCurrencies(): string[] {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const seed = Date.now() + process.pid;
  return [0, 1].map(
    (offset) =>
      `Q${letters[(seed + offset * 7) % 26] as string}${letters[Math.floor(seed / 26 + offset) % 26] as string}`,
  );
}

/** The tables as the committed operations leave them, built from onCommit. */
class ExpectedTables {
  readonly orders = new Map<string, OrderRow>();
  readonly payments = new Map<string, PaymentRow>();

  apply(operations: readonly LoadOperation[]): void {
    for (const operation of operations) {
      switch (operation.kind) {
        case 'insert_order':
          this.orders.set(operation.row.id, operation.row);
          break;
        case 'insert_payment':
          this.payments.set(operation.row.id, operation.row);
          break;
        case 'update_order':
        case 'duplicate_update':
          this.orders.set(operation.after.id, operation.after);
          break;
        case 'delete_order':
          this.orders.delete(operation.before.id);
          for (const [id, payment] of this.payments) {
            if (payment.order_id === operation.before.id) this.payments.delete(id);
          }
          break;
        case 'change_order_id':
          this.orders.delete(operation.before.id);
          this.orders.set(operation.after.id, operation.after);
          break;
      }
    }
  }
}

async function ordersOf(prefix: string): Promise<OrderRow[]> {
  const rows = await source('shop.orders').where('customer_id', 'like', `${prefix}-%`);
  return rows.map((row) => ({ ...row, amount_minor: Number(row.amount_minor) }) as OrderRow);
}

async function paymentsOf(prefix: string): Promise<PaymentRow[]> {
  const rows = await source('shop.payments as p')
    .join('shop.orders as o', 'o.id', 'p.order_id')
    .where('o.customer_id', 'like', `${prefix}-%`)
    .select('p.*');
  return rows.map((row) => ({ ...row, amount_minor: Number(row.amount_minor) }) as PaymentRow);
}

describe('runLoad on the live source database', () => {
  it('writes every kind of operation, and the tables end as the report and the plan say', async () => {
    const prefix = `load-int-${process.pid}-${Date.now()}`;
    const currencies = uniqueCurrencies();
    const expected = new ExpectedTables();
    const startedMs = Date.now();
    const report = await runLoad(
      source,
      {
        ratePerSec: 1000,
        operations: 300,
        seed: 20_261_122,
        currencies,
        customerPrefix: prefix,
        customers: 40,
        updates: 0.15,
        deletes: 0.05,
        duplicates: 0.03,
        pkChanges: 0.03,
        payments: 0.25,
        poison: 0.03,
        late: 0.05,
        lateByMs: LATE_BY_MS,
        outOfOrder: 0.2,
      },
      { onCommit: (operations) => expected.apply(operations) },
    );

    expect(report.stoppedBy).toBe('operations');
    expect(report.operations).toBe(300);
    expect(Object.values(report.byKind).reduce((sum, count) => sum + count, 0)).toBe(300);
    for (const [kind, count] of Object.entries(report.byKind)) {
      expect(count, `${kind} operations`).toBeGreaterThan(0);
      if (kind !== 'change_order_id')
        expect(report.ids[kind as keyof typeof report.byKind]).toHaveLength(count);
    }
    expect(report.poison).toBeGreaterThan(0);
    expect(report.late).toBeGreaterThan(0);

    // Row for row, the tables hold what the plan modelled.
    const orders = await ordersOf(prefix);
    const payments = await paymentsOf(prefix);
    expect(new Map(orders.map((row) => [row.id, row]))).toEqual(expected.orders);
    expect(new Map(payments.map((row) => [row.id, row]))).toEqual(expected.payments);

    // And the counts per kind add up: inserts, minus deletes; key changes keep the count.
    expect(orders).toHaveLength(report.byKind.insert_order - report.byKind.delete_order);
    const ids = new Set(orders.map((row) => row.id));
    for (const id of report.ids.delete_order) expect(ids.has(id)).toBe(false);
    expect(report.ids.idChanges).toHaveLength(report.byKind.change_order_id);
    for (const { from, to } of report.ids.idChanges) {
      expect(ids.has(from)).toBe(false);
      // Unless the order was deleted after its key moved.
      if (!report.ids.delete_order.includes(to)) expect(ids.has(to)).toBe(true);
    }

    // Poison rows break the contract (and nothing else does); late rows are past lateness.
    const invalid = [
      ...orders.filter((row) => !ordersV2.row.safeParse(orderEventRow(row)).success),
      ...payments.filter((row) => !paymentsV1.row.safeParse(paymentEventRow(row)).success),
    ].map((row) => row.id);
    expect(invalid.sort()).toEqual([...report.ids.poison].sort());
    expect(report.ids.poison).toHaveLength(report.poison);
    const late = [...orders, ...payments].filter((row) => report.ids.late.includes(row.id));
    expect(late.length).toBeGreaterThan(0);
    for (const row of late) {
      expect(row.created_at.getTime()).toBeLessThanOrEqual(startedMs - LATE_BY_MS + 60_000);
      expect(row.updated_at.getTime() - row.created_at.getTime()).toBeGreaterThanOrEqual(
        LATE_BY_MS,
      );
    }
    for (const row of orders) {
      if (!report.ids.poison.includes(row.id)) expect(currencies).toContain(row.currency);
    }
  });

  it('stops cleanly when aborted, reporting what it committed', async () => {
    const prefix = `load-int-abort-${process.pid}-${Date.now()}`;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 700);
    const report = await runLoad(source, {
      ratePerSec: 500,
      durationMs: 30_000,
      customerPrefix: prefix,
      currencies: uniqueCurrencies(),
      signal: controller.signal,
    });
    expect(report.stoppedBy).toBe('signal');
    expect(report.operations).toBeGreaterThan(100);
    expect(report.operations).toBeLessThan(1000);
    expect(report.endedAt.getTime() - report.startedAt.getTime()).toBeLessThan(5000);
    const orders = await ordersOf(prefix);
    expect(orders).toHaveLength(report.byKind.insert_order - report.byKind.delete_order);
  });

  it('aborts with a TidemarkError naming the operation the database refused', async () => {
    const prefix = `load-int-fail-${process.pid}-${Date.now()}`;
    const id = randomUUID();
    const run = runLoad(source, {
      ratePerSec: 20,
      operations: 50,
      connections: 1,
      seed: 18,
      // One tick a second at 20/s: the first tick, at once, has nothing due unless it comes 50 ms
      // late, and the second holds 20 operations (with this seed, several orders), all in one
      // transaction. CI failed twice when a first tick held a single order, which committed
      // before the next tick's insert failed (at 1,000/s, one late millisecond was enough).
      tickMs: 1_000,
      customerPrefix: prefix,
      // Every order gets the same key: the second insert violates the primary key.
      newId: () => id,
    });
    await expect(run).rejects.toBeInstanceOf(TidemarkError);
    await expect(run).rejects.toThrow(
      new RegExp(
        String.raw`load: insert_order \(\d+ rows into shop.orders, first id ${id}\) failed: .*duplicate key value violates unique constraint`,
      ),
    );
    expect(await ordersOf(prefix)).toHaveLength(0);
  });
});
