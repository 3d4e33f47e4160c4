import { MockActivityEnvironment } from '@temporalio/testing';
import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRangeStateSql } from '../consolidation/final-metric-sql';
import type { StateSnapshot } from '../consolidation/state-snapshot';
import { createStateSnapshotActivities } from './state-snapshot';

// A backfill's state snapshot on the real warehouse: its slices hold exactly what a rebuild from
// the changelog yields (updates, deletes, an event time moved out of the range), a retry finds
// it, a crash that empties it (unlogged) is noticed and repaired, and releasing it drops it.
// The changes are committed in 1950, a range no other test reads.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 2);
// No gate expectations: the snapshot holds the one metric's table.
const snapshots = createStateSnapshotActivities({ warehouse, expectations: [] });
const activity = new MockActivityEnvironment();
const backfillId = `snapshot-int-${randomUUID()}`;
const asOf = new Date().toISOString();
const DAYS = ['1950-06-10', '1950-06-11', '1950-06-12'];
const id = (n: number) => 9_195_006_000 + n;
let lsn = 9_195_006_000_000;

function change(op: 'c' | 'u' | 'd', n: number, committedAt: string, createdAt?: string) {
  const row = createdAt
    ? { id: id(n), created_at: createdAt, amount_minor: 100 * n, currency: 'EUR', status: 'new' }
    : null;
  return {
    source_table: 'shop.orders',
    op,
    primary_key: JSON.stringify({ id: id(n) }),
    lsn: (lsn += 1),
    committed_at: committedAt,
    captured_at: committedAt,
    before: null,
    after: op === 'd' ? null : JSON.stringify(row),
    kafka_topic: 'snapshot-int',
    kafka_partition: 0,
    kafka_offset: lsn,
    kafka_timestamp: committedAt,
  };
}

const request = {
  backfillId,
  from: '1950-06-10',
  to: '1950-06-11',
  metrics: ['orders_per_minute'],
  asOf,
};

/** prepareBackfillState in an activity's context (it logs and heartbeats). */
function prepare(): Promise<StateSnapshot> {
  return activity.run(snapshots.prepareBackfillState, request) as Promise<StateSnapshot>;
}

async function ids(sql: string, bindings: (string | number | boolean | Date)[]): Promise<number[]> {
  const result = await warehouse.raw(
    `SELECT (row ->> 'id')::bigint AS id FROM (${sql}) s`,
    bindings,
  );
  return result.rows.map((row: { id: string }) => Number(row.id)).sort();
}

async function slice(snapshotId: number, day: string): Promise<number[]> {
  const from = Date.parse(`${day}T00:00:00Z`);
  return ids(
    `SELECT row FROM final.state_snapshot_rows
      WHERE snapshot_id = ? AND source_table = 'shop.orders' AND t_ms >= ? AND t_ms < ?`,
    [snapshotId, from, from + 86_400_000],
  );
}

async function rebuilt(day: string): Promise<number[]> {
  const from = new Date(`${day}T00:00:00Z`);
  const { sql, bindings } = eventRangeStateSql(
    'shop.orders',
    'created_at',
    from,
    new Date(from.getTime() + 86_400_000),
    new Date(asOf),
  );
  return ids(sql, bindings);
}

async function partitionExists(snapshotId: number): Promise<boolean> {
  const result = await warehouse.raw('SELECT to_regclass(?) AS relation', [
    `final.state_snapshot_${snapshotId}`,
  ]);
  return result.rows[0].relation !== null;
}

beforeAll(async () => {
  await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [DAYS]);
  await warehouse('raw.change_events').insert([
    change('c', 1, '1950-06-10T10:00:00Z', '1950-06-10T10:00:00Z'),
    // Updated the next day: the latest version counts.
    change('u', 1, '1950-06-11T08:00:00Z', '1950-06-10T10:00:00Z'),
    change('c', 2, '1950-06-10T11:00:00Z', '1950-06-10T11:00:00Z'),
    change('d', 2, '1950-06-12T08:00:00Z'),
    change('c', 3, '1950-06-10T12:00:00Z', '1950-06-10T12:00:00Z'),
    // Its event time moved out of the backfill's range.
    change('u', 3, '1950-06-12T09:00:00Z', '1950-06-20T12:00:00Z'),
    change('c', 4, '1950-06-11T09:00:00Z', '1950-06-11T09:00:00Z'),
  ]);
});

afterAll(async () => {
  for (const day of DAYS) {
    await warehouse.raw(`DROP TABLE IF EXISTS raw.change_events_${day.replaceAll('-', '')}`);
  }
  const left = await warehouse('final.state_snapshots').where({ backfill_id: backfillId });
  for (const { snapshot_id } of left) await snapshots.releaseBackfillState(Number(snapshot_id));
  await warehouse.destroy();
});

describe('a backfill state snapshot', () => {
  it('holds what a rebuild from the changelog yields, day by day', async () => {
    const snapshot = await prepare();
    expect(snapshot.tables.map((part) => part.table)).toEqual(['shop.orders']);
    expect(await slice(snapshot.snapshotId, '1950-06-10')).toEqual([id(1)]);
    expect(await slice(snapshot.snapshotId, '1950-06-11')).toEqual([id(4)]);
    for (const day of ['1950-06-10', '1950-06-11']) {
      expect(await slice(snapshot.snapshotId, day)).toEqual(await rebuilt(day));
    }
    const [version] = await warehouse('final.state_snapshot_rows')
      .where({ snapshot_id: snapshot.snapshotId })
      .whereRaw('primary_key = ?::jsonb', [JSON.stringify({ id: id(1) })])
      .select('row');
    expect(version.row.amount_minor).toBe(100);
  });

  it('is found again by a retry, and rebuilt after a crash emptied it', async () => {
    const first = await prepare();
    const again = await prepare();
    expect(again.snapshotId).toBe(first.snapshotId);
    expect(await snapshots.findSnapshot(first.snapshotId)).toEqual(first);

    // What a crash leaves of unlogged tables: no header, an empty partition.
    await warehouse('final.state_snapshots').where({ snapshot_id: first.snapshotId }).delete();
    expect(await snapshots.findSnapshot(first.snapshotId)).toBeUndefined();
    const rebuiltSnapshot = await prepare();
    expect(rebuiltSnapshot.snapshotId).not.toBe(first.snapshotId);
    expect(await partitionExists(first.snapshotId)).toBe(false);
    expect(await slice(rebuiltSnapshot.snapshotId, '1950-06-10')).toEqual([id(1)]);

    await activity.run(snapshots.releaseBackfillState, rebuiltSnapshot.snapshotId);
    expect(await partitionExists(rebuiltSnapshot.snapshotId)).toBe(false);
    expect(await snapshots.findSnapshot(rebuiltSnapshot.snapshotId)).toBeUndefined();
  });
});
