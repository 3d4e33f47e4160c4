import { ordersV2, paymentsV1 } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { orderEventRow, paymentEventRow } from './event-rows';
import { LoadPlan, seededUuids, type LoadOperation, type OperationKind } from './plan';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');
const MINUTE = 60_000;

/** Plans `count` operations, the clock advancing 1 ms every 5 operations (5,000 ops/s). */
function planMany(plan: LoadPlan, count: number): { operation: LoadOperation; nowMs: number }[] {
  return Array.from({ length: count }, (_, index) => {
    const nowMs = NOW + Math.floor(index / 5);
    return { operation: plan.next(nowMs), nowMs };
  });
}

function countKinds(operations: readonly LoadOperation[]): Record<OperationKind, number> {
  const counts: Record<string, number> = {};
  for (const operation of operations) counts[operation.kind] = (counts[operation.kind] ?? 0) + 1;
  return counts as Record<OperationKind, number>;
}

describe('LoadPlan', () => {
  it('is reproducible from its seed, down to ids and timestamps', () => {
    const first = planMany(new LoadPlan({ seed: 42, poison: 0.01, late: 0.05 }), 2000);
    const second = planMany(new LoadPlan({ seed: 42, poison: 0.01, late: 0.05 }), 2000);
    const other = planMany(new LoadPlan({ seed: 43, poison: 0.01, late: 0.05 }), 2000);
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('makes the choices independently of where the ids come from', () => {
    let counter = 0;
    const counted = () => `00000000-0000-4000-8000-${String(counter++).padStart(12, '0')}`;
    const seeded = planMany(new LoadPlan({ seed: 9 }), 500).map(({ operation }) => operation.kind);
    const withIds = planMany(new LoadPlan({ seed: 9, newId: counted }), 500).map(
      ({ operation }) => operation.kind,
    );
    expect(withIds).toEqual(seeded);
  });

  it('respects the shares of operations within a tolerance', () => {
    const mix = {
      updates: 0.15,
      deletes: 0.03,
      duplicates: 0.02,
      pkChanges: 0.01,
      payments: 0.25,
      poison: 0.01,
    };
    const operations = planMany(new LoadPlan({ seed: 5, ...mix }), 50_000).map(
      ({ operation }) => operation,
    );
    const counts = countKinds(operations);
    const share = (count: number | undefined) => (count ?? 0) / operations.length;
    const poison = operations.filter(
      (operation) =>
        (operation.kind === 'insert_order' || operation.kind === 'insert_payment') &&
        operation.poison !== null,
    ).length;
    const poisonPayments = operations.filter(
      (operation) => operation.kind === 'insert_payment' && operation.poison !== null,
    ).length;
    expect(share(counts.update_order)).toBeCloseTo(mix.updates, 2);
    expect(share(counts.delete_order)).toBeCloseTo(mix.deletes, 2);
    expect(share(counts.duplicate_update)).toBeCloseTo(mix.duplicates, 2);
    expect(share(counts.change_order_id)).toBeCloseTo(mix.pkChanges, 2);
    expect(share((counts.insert_payment ?? 0) - poisonPayments)).toBeCloseTo(mix.payments, 2);
    expect(share(poison)).toBeCloseTo(mix.poison, 2);
    expect(share(counts.insert_order)).toBeGreaterThan(0.5);
  });

  it('mixes status moves, amount corrections and event-time moves in updates', () => {
    const updates = planMany(new LoadPlan({ seed: 6, updates: 0.5 }), 20_000)
      .map(({ operation }) => operation)
      .filter((operation) => operation.kind === 'update_order');
    const changes = { status: 0, amount: 0, event_time: 0 };
    for (const update of updates) changes[update.change] += 1;
    expect(changes.status / updates.length).toBeCloseTo(0.8, 1);
    expect(changes.amount / updates.length).toBeCloseTo(0.15, 1);
    expect(changes.event_time / updates.length).toBeCloseTo(0.05, 1);
    for (const update of updates) {
      expect(update.after).not.toEqual(update.before);
      if (update.change === 'event_time') {
        expect(update.after.created_at.getTime()).toBeLessThan(update.before.created_at.getTime());
      }
    }
  });

  it('writes realistic orders and payments that satisfy their contracts', () => {
    const operations = planMany(
      new LoadPlan({ seed: 7, currencies: ['QZX', 'QZY'], customerPrefix: 'plan-test' }),
      5000,
    ).map(({ operation }) => operation);
    const orders = operations.filter((operation) => operation.kind === 'insert_order');
    const payments = operations.filter((operation) => operation.kind === 'insert_payment');
    for (const { row } of orders) {
      expect(ordersV2.row.safeParse(orderEventRow(row)).error).toBeUndefined();
      expect(['QZX', 'QZY']).toContain(row.currency);
      expect(row.customer_id).toMatch(/^plan-test-\d+$/);
      expect(row.amount_minor).toBeGreaterThanOrEqual(99);
    }
    for (const { row } of payments) {
      expect(paymentsV1.row.safeParse(paymentEventRow(row)).error).toBeUndefined();
    }
    for (const operation of operations) {
      if (operation.kind === 'update_order' || operation.kind === 'change_order_id') {
        expect(ordersV2.row.safeParse(orderEventRow(operation.after)).success).toBe(true);
      }
    }
    // The first currency is the most frequent, a few customers place many orders.
    const qzx = orders.filter(({ row }) => row.currency === 'QZX').length;
    expect(qzx / orders.length).toBeGreaterThan(0.55);
    const customers = new Set(orders.map(({ row }) => row.customer_id));
    expect(customers.size).toBeGreaterThan(100);
    expect(customers.size).toBeLessThan(500);
    const failed = payments.filter(({ row }) => row.status === 'failed').length;
    expect(failed / payments.length).toBeCloseTo(0.08, 1);
    expect(new Set(payments.map(({ row }) => row.method))).toEqual(
      new Set(['card', 'wallet', 'bank_transfer']),
    );
  });

  it('writes poison rows the database accepts but the contract rejects', () => {
    const operations = planMany(new LoadPlan({ seed: 8, poison: 0.05 }), 10_000).map(
      ({ operation }) => operation,
    );
    const reasons = new Set<string>();
    let poisonRows = 0;
    for (const operation of operations) {
      if (operation.kind === 'insert_order') {
        const valid = ordersV2.row.safeParse(orderEventRow(operation.row)).success;
        expect(valid).toBe(operation.poison === null);
      } else if (operation.kind === 'insert_payment') {
        const valid = paymentsV1.row.safeParse(paymentEventRow(operation.row)).success;
        expect(valid).toBe(operation.poison === null);
      } else continue;
      if (operation.poison !== null) {
        poisonRows += 1;
        reasons.add(`${operation.kind}:${operation.poison}`);
        // Still a row the database takes: text columns, a bigint, a uuid.
        expect(typeof operation.row.amount_minor).toBe('number');
        expect(operation.row.currency.length).toBeGreaterThan(0);
      }
    }
    expect(poisonRows / operations.length).toBeCloseTo(0.05, 2);
    expect(reasons).toEqual(
      new Set([
        'insert_order:currency_not_iso',
        'insert_order:negative_amount',
        'insert_order:unknown_status',
        'insert_payment:currency_not_iso',
        'insert_payment:negative_amount',
        'insert_payment:unknown_method',
      ]),
    );
  });

  it('never touches a poison row again, so each makes exactly one bad change', () => {
    const operations = planMany(new LoadPlan({ seed: 10, poison: 0.05, updates: 0.3 }), 10_000);
    const poisonOrders = new Set<string>();
    for (const { operation } of operations) {
      if (operation.kind === 'insert_order' && operation.poison) poisonOrders.add(operation.row.id);
      if (operation.kind === 'insert_payment' && operation.poison) {
        poisonOrders.add(operation.row.order_id);
      }
      if ('before' in operation) expect(poisonOrders.has(operation.before.id)).toBe(false);
      if (operation.kind === 'insert_payment' && !operation.poison) {
        expect(poisonOrders.has(operation.row.order_id)).toBe(false);
      }
    }
  });

  it('puts event times on time, out of order or late, in the asked shares', () => {
    const lateByMs = 15 * MINUTE;
    const outOfOrderMaxMs = 3000;
    const planned = planMany(
      new LoadPlan({ seed: 11, late: 0.05, outOfOrder: 0.2, lateByMs, outOfOrderMaxMs }),
      20_000,
    );
    const timings = { on_time: 0, out_of_order: 0, late: 0 };
    for (const { operation, nowMs } of planned) {
      if (operation.kind !== 'insert_order' && operation.kind !== 'insert_payment') continue;
      timings[operation.timing] += 1;
      const eventTime = operation.row.created_at.getTime();
      expect(operation.row.updated_at.getTime()).toBe(nowMs);
      if (operation.timing === 'late') expect(eventTime).toBeLessThanOrEqual(nowMs - lateByMs);
      if (operation.timing === 'on_time') expect(eventTime).toBe(nowMs);
      if (operation.timing === 'out_of_order') {
        expect(eventTime).toBeLessThanOrEqual(nowMs);
        expect(eventTime).toBeGreaterThanOrEqual(nowMs - outOfOrderMaxMs);
      }
    }
    const inserts = timings.on_time + timings.out_of_order + timings.late;
    expect(timings.late / inserts).toBeCloseTo(0.05, 2);
    expect(timings.out_of_order / inserts).toBeCloseTo(0.2, 1);
  });

  it('targets only orders that exist, and moves the key only of orders without payments', () => {
    const orders = new Map<string, { payments: number; status: string }>();
    const planned = planMany(
      new LoadPlan({
        seed: 12,
        updates: 0.2,
        deletes: 0.1,
        duplicates: 0.05,
        pkChanges: 0.05,
        payments: 0.3,
        poison: 0.01,
      }),
      30_000,
    );
    const counts: Record<string, number> = {};
    // One order keeps its key across a primary-key change: the runner routes by it.
    const keys = new Map<string, number>();
    for (const { operation } of planned) {
      counts[operation.kind] = (counts[operation.kind] ?? 0) + 1;
      if (operation.kind === 'insert_order') keys.set(operation.row.id, operation.orderKey);
      else if (operation.kind === 'insert_payment') {
        expect(keys.get(operation.row.order_id)).toBe(operation.orderKey);
      } else expect(keys.get(operation.before.id)).toBe(operation.orderKey);
      if (operation.kind === 'change_order_id') keys.set(operation.after.id, operation.orderKey);
      switch (operation.kind) {
        case 'insert_order':
          expect(orders.has(operation.row.id)).toBe(false);
          orders.set(operation.row.id, { payments: 0, status: operation.row.status });
          break;
        case 'insert_payment': {
          const order = orders.get(operation.row.order_id);
          expect(order).toBeDefined();
          expect(['pending', 'paid']).toContain(order?.status);
          if (order) order.payments += 1;
          break;
        }
        case 'update_order':
        case 'duplicate_update': {
          const order = orders.get(operation.before.id);
          expect(order?.status).toBe(operation.before.status);
          if (order) order.status = operation.after.status;
          break;
        }
        case 'delete_order':
          expect(orders.get(operation.before.id)?.payments).toBe(operation.payments);
          orders.delete(operation.before.id);
          break;
        case 'change_order_id': {
          const order = orders.get(operation.before.id);
          expect(order?.payments).toBe(0);
          expect(orders.has(operation.after.id)).toBe(false);
          orders.delete(operation.before.id);
          orders.set(operation.after.id, order as { payments: number; status: string });
          break;
        }
      }
    }
    expect(Object.keys(counts).sort()).toEqual([
      'change_order_id',
      'delete_order',
      'duplicate_update',
      'insert_order',
      'insert_payment',
      'update_order',
    ]);
  });

  it('moves statuses along pending -> paid -> shipped, with cancellations and refunds', () => {
    const planned = planMany(new LoadPlan({ seed: 13, updates: 0.4, duplicates: 0.1 }), 20_000);
    const allowed = new Set([
      'pending>paid',
      'pending>cancelled',
      'paid>shipped',
      'paid>refunded',
      'shipped>refunded',
    ]);
    const seen = new Set<string>();
    for (const { operation } of planned) {
      if (operation.kind === 'duplicate_update' || operation.kind === 'update_order') {
        if (operation.before.status === operation.after.status) continue;
        const move = `${operation.before.status}>${operation.after.status}`;
        expect(allowed).toContain(move);
        seen.add(move);
      }
    }
    expect(seen).toEqual(allowed);
  });

  it('plans a duplicate as an UPDATE whose retry finds the row already as it leaves it', () => {
    const duplicates = planMany(new LoadPlan({ seed: 14, duplicates: 0.2 }), 5000)
      .map(({ operation }) => operation)
      .filter((operation) => operation.kind === 'duplicate_update');
    expect(duplicates.length).toBeGreaterThan(500);
    for (const duplicate of duplicates) {
      expect(duplicate.after).not.toEqual(duplicate.before);
      // Re-running the same SET on the row it produced leaves the row as it is.
      expect({ ...duplicate.after, ...duplicate.set }).toEqual(duplicate.after);
      expect(Object.keys(duplicate.set).sort()).toEqual(['status', 'updated_at']);
    }
  });

  it('forgets the oldest orders beyond maxTrackedOrders', () => {
    const plan = new LoadPlan({ seed: 15, maxTrackedOrders: 100 });
    planMany(plan, 5000);
    expect(plan.trackedOrders).toBeLessThanOrEqual(100);
    expect([...plan.trackedOrderRows()]).toHaveLength(plan.trackedOrders);
  });

  it('rejects bad options, naming each one and what it expects', () => {
    const problems = (options: ConstructorParameters<typeof LoadPlan>[0]) => {
      try {
        new LoadPlan(options);
      } catch (error) {
        expect(error).toBeInstanceOf(TidemarkError);
        expect((error as TidemarkError).code).toBe('BAD_INPUT');
        return (error as Error).message;
      }
      throw new Error('expected the options to be rejected');
    };
    expect(problems({ late: 1.5 })).toMatch(/late: expected a share between 0 and 1, got 1.5/);
    expect(problems({ updates: 0.6, payments: 0.6 })).toMatch(
      /updates \+ deletes \+ duplicates \+ pkChanges \+ payments \+ poison = 1.235: the shares of operations must add up to at most 1/,
    );
    expect(problems({ late: 0.6, outOfOrder: 0.6 })).toMatch(/late \+ outOfOrder = 1.2/);
    expect(problems({ currencies: ['EUR', 'euro'] })).toMatch(
      /currencies: expected codes of three capital letters such as EUR, got "euro"/,
    );
    expect(problems({ customers: 0 })).toMatch(/customers: expected a whole number greater than 0/);
  });
});

describe('seededUuids', () => {
  it('makes distinct, reproducible version-4 uuids', () => {
    const first = seededUuids(1);
    const ids = Array.from({ length: 10_000 }, () => first());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 100)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    const again = seededUuids(1);
    expect(again()).toBe(ids[0]);
  });
});
