import { customerSessions, type Row } from '@tidemark/contracts';
import { seededRandom } from '@tidemark/loadgen';
import { describe, expect, it } from 'vitest';
import { emptyAccumulator, mergeAccumulator, resultOf, type Accumulator } from './accumulator';
import { MemoryStore, MINUTE, ORDER_METRICS, randomChangelog } from './changelog.fixture';
import { contributionOf } from './contribution';
import { rowId, type KeyedChange } from './plan';
import { change, order, T0 } from './order-changes.fixture';
import { windowsFor } from './windows';
import { shardOf } from '../shards';

/** Aggregates the final state of the table directly, as the batch layer's SQL does. */
function aggregateTable(rows: readonly Row[]): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const metric of ORDER_METRICS) {
    const groups = new Map<string, { eventTimeMs: number; measure: unknown }[]>();
    const push = (key: string, item: { eventTimeMs: number; measure: unknown }) =>
      groups.set(key, [...(groups.get(key) ?? []), item]);
    const contributions = rows.flatMap((row) => {
      const contribution = contributionOf(metric, row);
      return contribution ? [contribution] : [];
    });
    if (metric.window.kind === 'session') {
      const { gapMs } = metric.window;
      const byKey = new Map<string, number[]>();
      for (const c of contributions)
        byKey.set(c.groupKey, [...(byKey.get(c.groupKey) ?? []), c.eventTimeMs]);
      for (const [groupKey, times] of byKey) {
        times.sort((a, b) => a - b);
        let start = times[0] ?? 0;
        let last = start;
        let count = 0;
        const close = () =>
          values.set(`${metric.name}|${start}|${last + gapMs}|${groupKey}`, count);
        for (const time of times) {
          if (count > 0 && time - last >= gapMs) {
            close();
            start = time;
            count = 0;
          }
          last = time;
          count += 1;
        }
        close();
      }
      continue;
    }
    for (const c of contributions) {
      for (const window of windowsFor(metric.window, c.eventTimeMs)) {
        push(`${metric.name}|${window.startMs}|${window.endMs}|${c.groupKey}`, c);
      }
    }
    for (const [key, items] of groups) {
      const measured = items
        .map((item) => item.measure)
        .filter((m): m is number | string => m !== null);
      const numbers = measured.map(Number);
      const fn = metric.aggregate.fn;
      const value =
        fn === 'count'
          ? items.length
          : measured.length === 0
            ? null
            : fn === 'sum'
              ? numbers.reduce((a, b) => a + b, 0)
              : fn === 'avg'
                ? numbers.reduce((a, b) => a + b, 0) / numbers.length
                : fn === 'min'
                  ? Math.min(...numbers)
                  : fn === 'max'
                    ? Math.max(...numbers)
                    : new Set(measured).size;
      values.set(key, value);
    }
  }
  return values;
}

describe('planBatch', () => {
  it("retracts an update's old contribution and adds its new one, moving windows with event time", () => {
    const store = new MemoryStore();
    const created = order('a', { amount_minor: 500 });
    const moved = {
      ...created,
      amount_minor: 700,
      created_at: new Date(T0 + 2 * MINUTE).toISOString(),
    };
    store.apply([change('c', null, created, 1)]);
    store.apply([change('u', created, moved, 2)]);
    const revenue = [...store.values()].filter(([key]) => key.startsWith('revenue_per_minute|'));
    expect(revenue).toEqual([
      [`revenue_per_minute|${T0 + 2 * MINUTE}|${T0 + 3 * MINUTE}|["EUR"]`, 700],
    ]);
  });

  it('retracts on delete and ignores a redelivered change by its LSN', () => {
    const store = new MemoryStore();
    const created = order('a');
    store.apply([change('c', null, created, 1)]);
    const plan = store.apply([change('c', null, created, 1), change('d', created, null, 2)]);
    expect(plan.duplicates).toBe(1);
    expect([...store.values()].filter(([key]) => key.startsWith('orders_per_minute|'))).toEqual([]);
  });

  it('sends contributions to closed windows to the late ledger with their reason', () => {
    const store = new MemoryStore();
    store.state.watermarks.set('orders_per_minute', T0 + 10 * MINUTE); // lateness is 5 minutes
    const lateOrder = order('late', { created_at: new Date(T0 + 30_000).toISOString() });
    const onTime = order('fresh', { created_at: new Date(T0 + 9 * MINUTE).toISOString() });
    store.apply([change('c', null, lateOrder, 1), change('c', null, onTime, 2)]);
    const late = store.late.filter((entry) => entry.metric === 'orders_per_minute');
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({
      reason: 'late_beyond_lateness',
      sign: 1,
      primaryKey: '{"id":"late"}',
    });
    store.apply([change('u', lateOrder, { ...lateOrder, status: 'cancelled' }, 3)]);
    expect(store.late.filter((entry) => entry.metric === 'orders_per_minute').at(-1)).toMatchObject(
      {
        reason: 'changed_after_close',
        sign: -1,
      },
    );
    expect(
      store.values().get(`orders_per_minute|${T0 + 9 * MINUTE}|${T0 + 10 * MINUTE}|["EUR"]`),
    ).toBe(1);
  });

  it('merges sessions when an event bridges them and splits them when it is deleted', () => {
    const store = new MemoryStore();
    const at = (minutes: number, id: string) =>
      order(id, { created_at: new Date(T0 + minutes * MINUTE).toISOString() });
    store.apply([change('c', null, at(0, 'a'), 1), change('c', null, at(50, 'b'), 2)]);
    const sessions = () =>
      [...store.values()].filter(([key]) => key.startsWith('customer_sessions|'));
    expect(sessions()).toHaveLength(2);
    const bridge = at(25, 'bridge');
    store.apply([change('c', null, bridge, 3)]);
    expect(sessions()).toEqual([[`customer_sessions|${T0}|${T0 + 80 * MINUTE}|["customer-1"]`, 3]]);
    store.apply([change('d', bridge, null, 4)]);
    expect(sessions().map(([, value]) => value)).toEqual([1, 1]);
  });

  it('reads a snapshot of a row it applied as an update from its last image, not a second row', () => {
    const store = new MemoryStore();
    const created = order('a', { amount_minor: 500 });
    const same = order('b', { amount_minor: 300 });
    store.apply([change('c', null, created, 1), change('c', null, same, 2)]);
    // The connector snapshots again: `a` changed while nothing was captured, `b` did not.
    const reread = store.apply([
      change('r', null, { ...created, amount_minor: 700 }, 10),
      change('r', null, same, 10),
    ]);
    const minute = `${T0}|${T0 + MINUTE}|["EUR"]`;
    expect(store.values().get(`orders_per_minute|${minute}`)).toBe(2);
    expect(store.values().get(`revenue_per_minute|${minute}`)).toBe(1000);
    // Only the changed row's revenue moved; the unchanged row's re-read added nothing anywhere.
    expect(new Set(reread.windowDeltas.map((delta) => delta.metric.name))).toEqual(
      new Set(['revenue_per_minute', 'largest_order', 'smallest_order', 'average_order']),
    );
    expect(reread.pendingSessions.byKey.size).toBe(0);
  });

  it('reads a snapshot behind a change of the same batch as an update from that change', () => {
    const store = new MemoryStore();
    const created = order('a', { amount_minor: 500 });
    store.apply([change('c', null, created, 1), change('r', null, created, 5)]);
    expect(store.values().get(`orders_per_minute|${T0}|${T0 + MINUTE}|["EUR"]`)).toBe(1);
  });

  it('keeps out, as snapshot_unverified, the re-read of a row whose last image is gone', () => {
    const store = new MemoryStore();
    const created = order('a', { amount_minor: 500 });
    store.apply([change('c', null, created, 1)]);
    store.images.clear(); // the changelog's partition of that day was dropped
    store.apply([change('r', null, { ...created, amount_minor: 900 }, 10)]);
    expect(store.values().get(`revenue_per_minute|${T0}|${T0 + MINUTE}|["EUR"]`)).toBe(500);
    const kept = store.late.filter((entry) => entry.metric === 'revenue_per_minute');
    expect(kept).toEqual([
      expect.objectContaining({ reason: 'snapshot_unverified', sign: 1, op: 'r', measure: 900 }),
    ]);
  });

  it('with infinite lateness, equals aggregating the final table, for random changelogs', () => {
    for (let seed = 1; seed <= 40; seed += 1) {
      const { log, finalRows } = randomChangelog(seed, 300);
      const store = new MemoryStore();
      const random = seededRandom(seed * 7919);
      for (let start = 0; start < log.length;) {
        const size = 1 + Math.floor(random() * 40);
        store.apply(log.slice(start, start + size));
        start += size;
      }
      expect(store.late).toEqual([]);
      expect(Object.fromEntries(store.values()), `seed ${seed}`).toEqual(
        Object.fromEntries(aggregateTable(finalRows)),
      );
    }
  });
});

const DAY = 24 * 60 * MINUTE;

describe('session rows written when due', () => {
  // Nothing late: the property is about where a session's value lives, not about lateness.
  const sessions = { ...customerSessions, allowedLatenessMs: 1_000 * DAY };
  const metrics = ORDER_METRICS.map((metric) =>
    metric.name === sessions.name ? sessions : metric,
  );
  const sessionValues = (values: ReadonlyMap<string, unknown>) =>
    new Map([...values].filter(([key]) => key.startsWith(`${sessions.name}|`)));

  it('writes no row for an open session; its row once the watermark passes its end', () => {
    const store = new MemoryStore(metrics);
    store.apply([change('c', null, order('a', { created_at: new Date(T0).toISOString() }), 1)]);
    const key = `${sessions.name}|${T0}|${T0 + 30 * MINUTE}|["customer-1"]`;
    expect(store.sessionRows.size).toBe(0);
    expect(store.values().get(key)).toBe(1);
    store.tick(new Map([[sessions.name, T0 + 30 * MINUTE - 1]]));
    expect(store.sessionRows.size).toBe(0);
    store.tick(new Map([[sessions.name, T0 + 30 * MINUTE]]));
    expect([...store.sessionRows.keys()]).toEqual([key]);
    expect(store.heldSessionValues().size).toBe(0);
  });

  it('with ticks at random watermarks, rows and held sessions equal the final table; every session is a row once all are due', () => {
    for (let seed = 1; seed <= 40; seed += 1) {
      const { log, finalRows } = randomChangelog(seed, 300);
      const store = new MemoryStore(metrics);
      const random = seededRandom(seed * 6_151);
      let watermarkMs = T0 - MINUTE;
      for (let start = 0; start < log.length;) {
        const size = 1 + Math.floor(random() * 40);
        store.apply(log.slice(start, start + size));
        start += size;
        watermarkMs += Math.floor(random() * 4 * MINUTE);
        if (random() < 0.5) store.tick(new Map([[sessions.name, watermarkMs]]));
      }
      const expected = sessionValues(aggregateTable(finalRows));
      expect(store.late, `seed ${seed}`).toEqual([]);
      expect(Object.fromEntries(sessionValues(store.values())), `seed ${seed}`).toEqual(
        Object.fromEntries(expected),
      );
      store.tick(new Map([[sessions.name, T0 + 1_000 * DAY]]));
      expect(store.heldSessionValues().size, `seed ${seed}`).toBe(0);
      const rows = new Map(
        [...store.sessionRows].map(([key, accumulator]) => [
          key,
          resultOf(sessions.aggregate, accumulator),
        ]),
      );
      expect(Object.fromEntries(sessionValues(rows)), `seed ${seed}`).toEqual(
        Object.fromEntries(expected),
      );
    }
  });
});

describe('partition-local partials', () => {
  /** Fixed windows' values from accumulators keyed metric|start|end|key. */
  const fixedValues = (windows: ReadonlyMap<string, Accumulator>) => {
    const values = new Map<string, unknown>();
    for (const [key, accumulator] of windows) {
      const metric = ORDER_METRICS.find((candidate) => key.startsWith(`${candidate.name}|`));
      if (metric && accumulator.rows > 0) values.set(key, resultOf(metric.aggregate, accumulator));
    }
    return values;
  };

  it("split across partitions by row key and interleaved at random, merge to one partition's values", () => {
    for (let seed = 1; seed <= 30; seed += 1) {
      const { log } = randomChangelog(seed, 300);
      const random = seededRandom(seed * 104_729);
      const single = new MemoryStore();
      single.apply(log);
      // Kafka keys each change by its row: a row's changes are one partition's, in order.
      const partitions = 2 + (seed % 3);
      const queues = Array.from({ length: partitions }, (_, index) =>
        log.filter((item) => shardOf('', item.primaryKey, partitions) === index),
      );
      const stores = queues.map(() => new MemoryStore());
      while (queues.some((queue) => queue.length > 0)) {
        const open = queues.flatMap((queue, index) => (queue.length > 0 ? [index] : []));
        const index = open[Math.floor(random() * open.length)] as number;
        const queue = queues[index] as KeyedChange[];
        stores[index]?.apply(queue.splice(0, 1 + Math.floor(random() * 30)));
      }
      // The emitter's merge: every partition's partial of each window.
      const merged = new Map<string, Accumulator>();
      for (const store of stores) {
        for (const [key, partial] of store.windows) {
          const window = merged.get(key) ?? emptyAccumulator();
          mergeAccumulator(window, partial);
          merged.set(key, window);
        }
      }
      expect(Object.fromEntries(fixedValues(merged)), `seed ${seed}`).toEqual(
        Object.fromEntries(fixedValues(single.windows)),
      );
    }
  });
});

describe('rowId', () => {
  it('separates table and key', () => {
    expect(rowId('shop.orders', '{"id":"a"}')).not.toBe(rowId('shop.order', 's{"id":"a"}'));
  });
});
