import { customerSessions, ordersPerMinute } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import {
  applicableBatches,
  pendingFromQueued,
  queuedInputsByShard,
  watermarksBehindQueue,
  type QueuedSessionInput,
} from './session-queue';
import { change, order, T0 } from './windowing/order-changes.fixture';
import { planChanges, planSessionChanges, type PendingSessions } from './windowing/plan';

const MINUTE = 60_000;
const METRICS = [ordersPerMinute, customerSessions];

/** An order of `customer` at `atMs` created, deleted, or updated to 40 minutes later. */
function orderChange(id: string, customer: string, atMs: number, lsn: number, op: 'c' | 'u' | 'd') {
  const at = (ms: number) => ({ created_at: new Date(ms).toISOString() });
  const row = order(id, { customer_id: customer, amount_minor: 100, ...at(atMs) });
  const after = op === 'u' ? { ...row, ...at(atMs + 40 * MINUTE) } : row;
  return change(op, op === 'c' ? null : row, op === 'd' ? null : after, lsn);
}

/** Every queued input of a batch, as one shard would queue them. */
function queuedInputsOf(pending: PendingSessions): QueuedSessionInput[] {
  return [...queuedInputsByShard(pending, () => 0).values()].flat();
}

describe('the session queue', () => {
  const changes = [
    orderChange('a', 'alice', T0, 1, 'c'),
    orderChange('b', 'bob', T0 + MINUTE, 2, 'c'),
    orderChange('a', 'alice', T0, 3, 'u'),
    orderChange('c', 'alice', T0 - 120 * MINUTE, 4, 'c'),
    orderChange('b', 'bob', T0 + MINUTE, 5, 'd'),
  ];
  const watermarks = new Map(METRICS.map((metric) => [metric.name, T0 - 30 * MINUTE]));
  const { pendingSessions } = planChanges(changes, () => METRICS, {
    rowVersions: new Map(),
    watermarks,
  });

  it('queues only session contributions, retractions included, in the batch order', () => {
    const queued = queuedInputsOf(pendingSessions);
    expect(
      queued.map(([metric, groupKey, , , , sign, , , lsn, op]) => [
        metric,
        groupKey,
        sign,
        lsn,
        op,
      ]),
    ).toEqual([
      ['customer_sessions', '["alice"]', 1, 1, 'c'],
      ['customer_sessions', '["alice"]', -1, 3, 'u'],
      ['customer_sessions', '["alice"]', 1, 3, 'u'],
      ['customer_sessions', '["alice"]', 1, 4, 'c'],
      ['customer_sessions', '["bob"]', 1, 2, 'c'],
      ['customer_sessions', '["bob"]', -1, 5, 'd'],
    ]);
  });

  it('plans the same sessions and late entries from the queue as from the batch', () => {
    const queued = JSON.parse(
      JSON.stringify(queuedInputsOf(pendingSessions)),
    ) as QueuedSessionInput[];
    const { pending, unknown } = pendingFromQueued(queued, METRICS);
    expect(unknown.size).toBe(0);
    const state = { sessions: new Map(), watermarks };
    const direct = planSessionChanges(pendingSessions, state);
    const fromQueue = planSessionChanges(pending, state);
    expect(fromQueue.late).toEqual(direct.late);
    expect(fromQueue.late.map((entry) => entry.primaryKey)).toEqual([JSON.stringify({ id: 'c' })]);
    const shape = (plan: typeof direct) =>
      plan.sessionChanges.map(({ metric, groupKey, written, removed, state: kept }) => ({
        metric: metric.name,
        groupKey,
        written,
        removed,
        kept,
      }));
    expect(shape(fromQueue)).toEqual(shape(direct));
    expect(shape(fromQueue).map((change) => change.groupKey)).toEqual(['["alice"]', '["bob"]']);
  });

  it("queues each key's inputs whole in its key's shard, in the batch's order", () => {
    const byShard = queuedInputsByShard(pendingSessions, (_metric, groupKey) =>
      groupKey === '["alice"]' ? 1 : 0,
    );
    const keysOf = (inputs: QueuedSessionInput[] | undefined) =>
      (inputs ?? []).map(([, groupKey, , , , sign, , , lsn]) => [groupKey, sign, lsn]);
    expect(keysOf(byShard.get(1))).toEqual([
      ['["alice"]', 1, 1],
      ['["alice"]', -1, 3],
      ['["alice"]', 1, 3],
      ['["alice"]', 1, 4],
    ]);
    expect(keysOf(byShard.get(0))).toEqual([
      ['["bob"]', 1, 2],
      ['["bob"]', -1, 5],
    ]);
    expect([...byShard.keys()].sort()).toEqual([0, 1]);
  });

  it('sets apart the inputs of a metric this process does not compute', () => {
    const queued = queuedInputsOf(pendingSessions);
    const { pending, unknown } = pendingFromQueued(queued, [ordersPerMinute]);
    expect(pending.byKey.size).toBe(0);
    expect(unknown).toEqual(new Map([['customer_sessions', queued.length]]));
  });

  it('applies no queued batch from the first one holding a metric this process lacks on', () => {
    const queued = queuedInputsOf(pendingSessions);
    const renamed = queued.map(
      (input): QueuedSessionInput =>
        ['customer_sessions_v2', ...input.slice(1)] as QueuedSessionInput,
    );
    const batches = [
      { id: '1', inputs: queued },
      { id: '2', inputs: [...queued.slice(0, 1), ...renamed.slice(0, 1)] },
      { id: '3', inputs: queued },
    ];
    const { applicable, heldBackBy } = applicableBatches(batches, METRICS);
    expect(applicable.map((batch) => batch.id)).toEqual(['1']);
    expect(heldBackBy).toEqual(['customer_sessions_v2']);
    // A consumer computing every metric applies them all.
    const all = applicableBatches(batches, [
      ...METRICS,
      { ...customerSessions, name: 'customer_sessions_v2' },
    ]);
    expect(all.applicable.map((batch) => batch.id)).toEqual(['1', '2', '3']);
    expect(all.heldBackBy).toEqual([]);
  });

  it('holds session metrics to the oldest queued watermark, and leaves the others alone', () => {
    const current = new Map([
      ['orders_per_minute', T0],
      ['customer_sessions', T0],
    ]);
    const queued = [
      { orders_per_minute: T0 - 5 * MINUTE, customer_sessions: T0 - 5 * MINUTE },
      { orders_per_minute: T0 - 9 * MINUTE, customer_sessions: T0 - 9 * MINUTE },
    ];
    const held = watermarksBehindQueue(current, queued, ['customer_sessions']);
    expect(held).toEqual(
      new Map([
        ['orders_per_minute', T0],
        ['customer_sessions', T0 - 9 * MINUTE],
      ]),
    );
    // A batch queued before any watermark was known holds it unknown; an empty queue, not at all.
    const unknown = watermarksBehindQueue(
      current,
      [{ customer_sessions: null }],
      ['customer_sessions'],
    );
    expect(unknown.get('customer_sessions')).toBeNull();
    expect(watermarksBehindQueue(current, [], ['customer_sessions'])).toEqual(current);
  });
});
