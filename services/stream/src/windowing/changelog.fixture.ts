import {
  customerSessions,
  defineMetric,
  ordersPerMinute,
  revenuePerMinute,
  type MetricDefinition,
  type Row,
} from '@tidemark/contracts';
import { seededRandom } from '@tidemark/loadgen';
import { emptyAccumulator, mergeAccumulator, resultOf, type Accumulator } from './accumulator';
import { change, order, T0 } from './order-changes.fixture';
import {
  planBatch,
  planDueSessions,
  rowId,
  type KeyedChange,
  type PlannerState,
  type SessionChange,
} from './plan';
import { heldSessions } from './session-rows';
import { sessionAccumulator } from './sessions';

// Random changelogs of shop.orders and an in-memory sink applying the planner's plans, for the
// planner's property tests and the parity test of the stream's operators against the batch
// layer's SQL (workflows/src/consolidation/parity.int.test.ts).

export const MINUTE = 60_000;

// Extra definitions so every aggregate and window kind is exercised.
const largestOrder = defineMetric({
  name: 'largest_order',
  description: 'Largest order per 10 minutes.',
  owner: 'test',
  source: { table: 'shop.orders', contractVersion: 2 },
  eventTimeField: 'created_at',
  keys: ['currency'],
  aggregate: { fn: 'max', of: { field: 'amount_minor' } },
  window: { kind: 'tumbling', sizeMs: 10 * MINUTE },
  outOfOrdernessMs: 0,
  allowedLatenessMs: 0,
  emit: { kind: 'on_update' },
});
const smallestOrder = defineMetric({
  ...largestOrder,
  name: 'smallest_order',
  aggregate: { fn: 'min', of: { field: 'amount_minor' } },
  window: { kind: 'hopping', sizeMs: 10 * MINUTE, slideMs: 5 * MINUTE },
});
const distinctCustomers = defineMetric({
  ...largestOrder,
  name: 'distinct_customers',
  aggregate: { fn: 'count_distinct', of: { field: 'customer_id' } },
  window: { kind: 'hopping', sizeMs: 15 * MINUTE, slideMs: 5 * MINUTE },
});
const averageOrder = defineMetric({
  ...largestOrder,
  name: 'average_order',
  keys: ['currency', 'status'],
  aggregate: { fn: 'avg', of: { field: 'amount_minor' } },
});
export const ORDER_METRICS: MetricDefinition[] = [
  ordersPerMinute,
  revenuePerMinute,
  customerSessions,
  largestOrder,
  smallestOrder,
  distinctCustomers,
  averageOrder,
];

/** A stand-in for the warehouse sink: applies plans to maps, as the SQL does to tables. */
export class MemoryStore {
  constructor(readonly metrics: readonly MetricDefinition[] = ORDER_METRICS) {}

  readonly windows = new Map<string, Accumulator>();
  readonly sessionRows = new Map<string, Accumulator>();
  readonly state: PlannerState = {
    rowVersions: new Map(),
    sessions: new Map(),
    watermarks: new Map(),
  };
  readonly late: ReturnType<typeof planBatch>['late'] = [];
  /** The raw changelog's part the planner reads: each row's last applied image. */
  readonly images = new Map<string, Row | null>();

  apply(changes: readonly KeyedChange[]): ReturnType<typeof planBatch> {
    const metricsOf = (table: string) => (table === 'shop.orders' ? this.metrics : []);
    const plan = planBatch(changes, metricsOf, { ...this.state, priorImages: this.images });
    for (const { table, primaryKey, event } of changes) {
      const id = rowId(table, primaryKey);
      if (plan.rowVersions.get(id)?.lsn === event.source.lsn) this.images.set(id, event.after);
    }
    for (const delta of plan.windowDeltas) {
      const key = `${delta.metric.name}|${delta.window.startMs}|${delta.window.endMs}|${delta.groupKey}`;
      const stored = this.windows.get(key) ?? emptyAccumulator();
      mergeAccumulator(stored, delta.delta);
      this.windows.set(key, stored);
    }
    this.applySessionChanges(plan.sessionChanges);
    for (const [id, version] of plan.rowVersions) this.state.rowVersions.set(id, version.lsn);
    this.late.push(...plan.late);
    return plan;
  }

  /**
   * The tick's part for sessions whose rows wait until due: the watermarks move to `watermarks`,
   * and the sessions they pass get their rows.
   */
  tick(watermarks: ReadonlyMap<string, number>): void {
    for (const [name, watermarkMs] of watermarks) this.state.watermarks.set(name, watermarkMs);
    const due = [...this.state.sessions].flatMap(([key, state]) => {
      const [name = '', groupKey = '[]'] = key.split('\u0000');
      const metric = this.metrics.find((candidate) => candidate.name === name);
      const keyValues = JSON.parse(groupKey) as unknown[];
      const change =
        metric &&
        planDueSessions(metric, { groupKey, keyValues }, state, watermarks.get(name) ?? null);
      return change ? [change] : [];
    });
    this.applySessionChanges(due);
  }

  private applySessionChanges(changes: readonly SessionChange[]): void {
    for (const sessionChange of changes) {
      const prefix = `${sessionChange.metric.name}|`;
      for (const session of sessionChange.removed) {
        this.sessionRows.delete(
          `${prefix}${session.startMs}|${session.endMs}|${sessionChange.groupKey}`,
        );
      }
      for (const { session, accumulator } of sessionChange.written) {
        this.sessionRows.set(
          `${prefix}${session.startMs}|${session.endMs}|${sessionChange.groupKey}`,
          accumulator,
        );
      }
      this.state.sessions.set(
        `${sessionChange.metric.name}\u0000${sessionChange.groupKey}`,
        sessionChange.state,
      );
    }
  }

  /** Sessions whose rows wait until due, by the key their row will have: not rows yet. */
  heldSessionValues(): Map<string, Accumulator> {
    const held = new Map<string, Accumulator>();
    for (const [key, state] of this.state.sessions) {
      const [name = '', groupKey = '[]'] = key.split('\u0000');
      const metric = this.metrics.find((candidate) => candidate.name === name);
      if (metric?.window.kind !== 'session') continue;
      for (const session of heldSessions(state, metric.window.gapMs)) {
        held.set(
          `${name}|${session.startMs}|${session.endMs}|${groupKey}`,
          sessionAccumulator(metric.aggregate, session),
        );
      }
    }
    return held;
  }

  /** Every non-empty (metric, window, key) and its value: rows, and sessions held in state. */
  values(): Map<string, unknown> {
    const values = new Map<string, unknown>();
    const held = this.heldSessionValues();
    for (const [key, accumulator] of [...this.windows, ...this.sessionRows, ...held]) {
      const metric = this.metrics.find((candidate) => key.startsWith(`${candidate.name}|`));
      if (metric && accumulator.rows > 0) values.set(key, resultOf(metric.aggregate, accumulator));
    }
    return values;
  }
}

/**
 * A random changelog of shop.orders with inserts, updates, deletes, key changes, redeliveries, and
 * re-snapshots after lost updates.
 */
export function randomChangelog(seed: number, length: number) {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const table = new Map<string, Row>();
  const log: KeyedChange[] = [];
  let lsn = 1000;
  let nextId = 0;
  const newRow = (id: string): Row =>
    order(id, {
      customer_id: pick(['c1', 'c2', 'c3', 'c4']),
      currency: pick(['EUR', 'USD', 'GBP']),
      status: pick(['pending', 'paid', 'cancelled', 'refunded']),
      amount_minor: 100 + Math.floor(random() * 900),
      created_at: new Date(
        T0 + (Math.floor(random() * 120) * MINUTE) / 2 + Math.floor(random() * 1000),
      ).toISOString(),
    });
  for (let step = 0; step < length; step += 1) {
    const roll = random();
    const ids = [...table.keys()];
    lsn += 1 + Math.floor(random() * 3);
    if (roll < 0.03) {
      // The connector's offsets were lost: a few updates were never captured, then it snapshots
      // every row again, all read at the snapshot's LSN.
      for (const id of ids) {
        if (random() < 0.2) table.set(id, { ...(table.get(id) as Row), amount_minor: step + 1 });
      }
      for (const row of table.values()) log.push(change('r', null, row, lsn));
    } else if (roll < 0.1 && log.length > 0) {
      log.push(pick(log)); // a redelivery of an earlier change
    } else if (roll < 0.5 || ids.length === 0) {
      const row = newRow(`o${nextId++}`);
      table.set(String(row.id), row);
      log.push(change('c', null, row, lsn));
    } else if (roll < 0.85) {
      const id = pick(ids);
      const before = table.get(id) as Row;
      const after = { ...before };
      const what = random();
      if (what < 0.4) after.status = pick(['pending', 'paid', 'cancelled', 'refunded']);
      else if (what < 0.6) after.amount_minor = 100 + Math.floor(random() * 900);
      else if (what < 0.8) after.created_at = newRow(id).created_at;
      // else: a duplicated business operation, the same update again (before equals after)
      table.set(id, after);
      log.push(change('u', before, after, lsn));
    } else if (roll < 0.95) {
      const id = pick(ids);
      log.push(change('d', table.get(id) as Row, null, lsn));
      table.delete(id);
    } else {
      // A primary-key change: Debezium emits a delete of the old key and a create of the new one.
      const id = pick(ids);
      const before = table.get(id) as Row;
      const after = { ...before, id: `o${nextId++}` };
      table.delete(id);
      table.set(String(after.id), after);
      log.push(change('d', before, null, lsn), change('c', null, after, lsn + 1));
      lsn += 1;
    }
  }
  return { log, finalRows: [...table.values()] };
}
