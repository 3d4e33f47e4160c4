import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { asAssignments, asSelectList, emissionOfNewRow, emissionOfUpdatedRow } from './emission';
import { compareTuples } from './sql-batches';

/** One emission shard: the windows of a topic's metrics that hash to one of its partitions. */
export interface EmissionShard {
  topic: string;
  shard: number;
  /** The metrics computed from the topic (fixed windows; sessions are emitted elsewhere). */
  metrics: readonly MetricDefinition[];
}

interface ClaimedWindow {
  metric: string;
  shard: number;
  window_start: Date;
  window_end: Date;
  group_key: string;
}

/**
 * Emits the windows of the given shards whose partials changed, inside the caller's
 * transaction: it takes the shards' queued windows off `stream.dirty_windows`, merges each
 * window's partials of every partition, and writes the merged accumulator to
 * `provisional.metric_values` with the metric's emit policy (`emission.ts`), in a few statements
 * whatever the number of shards. One emitter per shard at a time (a transaction-scoped advisory
 * lock, tried, never waited for): the consumer owning the shard's partition, or for a moment
 * during a rebalance one of two. Returns, per shard in order, the windows emitted, or undefined
 * when another transaction holds the shard (its windows stay queued for the next emission).
 * Idempotent: it writes what the partials hold.
 */
export async function emitShards(
  trx: Knex.Transaction,
  pipeline: string,
  shards: readonly EmissionShard[],
): Promise<(number | undefined)[]> {
  const windowMetrics = (shard: EmissionShard) =>
    shard.metrics.filter((metric) => metric.window.kind !== 'session');
  const wanted = shards.filter((shard) => windowMetrics(shard).length > 0);
  const lockKey = (shard: EmissionShard) =>
    `tidemark.emit:${pipeline}:${shard.topic}:${shard.shard}`;
  const locks =
    wanted.length === 0
      ? { rows: [] }
      : await trx.raw<{ rows: { key: string; locked: boolean }[] }>(
          `SELECT key, pg_try_advisory_xact_lock(hashtext(key)) AS locked
             FROM unnest(?::text[]) WITH ORDINALITY AS k(key, position) ORDER BY position`,
          [wanted.map(lockKey)],
        );
  const locked = new Set(locks.rows.filter((row) => row.locked).map((row) => row.key));
  const claimable = wanted.filter((shard) => locked.has(lockKey(shard)));
  const pairs = claimable.flatMap((shard) =>
    windowMetrics(shard).map((metric) => ({ metric, shard: shard.shard })),
  );
  const claimed =
    pairs.length === 0
      ? { rows: [] }
      : await trx.raw<{ rows: ClaimedWindow[] }>(
          `DELETE FROM stream.dirty_windows AS d
            USING unnest(?::text[], ?::integer[]) AS w(metric, shard)
            WHERE d.pipeline = ? AND d.metric = w.metric AND d.shard = w.shard
            RETURNING d.metric, d.shard, d.window_start, d.window_end, d.group_key`,
          [pairs.map((pair) => pair.metric.name), pairs.map((pair) => pair.shard), pipeline],
        );
  // Windows emitted per metric and shard.
  const emitted = new Map<string, number>();
  const countKey = (metric: string, shard: number) => `${metric}\u0000${shard}`;
  const metrics = new Map(pairs.map(({ metric }) => [metric.name, metric]));
  for (const metric of metrics.values()) {
    const windows = distinctWindows(claimed.rows.filter((row) => row.metric === metric.name));
    if (windows.length === 0) continue;
    await emitWindows(trx, pipeline, metric, windows);
    for (const { shard } of windows) {
      const key = countKey(metric.name, shard);
      emitted.set(key, (emitted.get(key) ?? 0) + 1);
    }
  }
  return shards.map((shard) => {
    if (windowMetrics(shard).length > 0 && !locked.has(lockKey(shard))) return undefined;
    return windowMetrics(shard).reduce(
      (sum, metric) => sum + (emitted.get(countKey(metric.name, shard.shard)) ?? 0),
      0,
    );
  });
}

/** Each window once, in key order (the order every writer of these rows keeps). */
function distinctWindows(rows: readonly ClaimedWindow[]): ClaimedWindow[] {
  const byKey = new Map<string, ClaimedWindow>();
  for (const row of rows) {
    byKey.set(
      `${row.group_key}\u0000${row.window_start.toISOString()}\u0000${row.window_end.toISOString()}`,
      row,
    );
  }
  return [...byKey.values()].sort(
    (a, b) =>
      compareTuples([a.group_key], [b.group_key]) ||
      a.window_start.getTime() - b.window_start.getTime() ||
      a.window_end.getTime() - b.window_end.getTime(),
  );
}

async function emitWindows(
  trx: Knex.Transaction,
  pipeline: string,
  metric: MetricDefinition,
  windows: readonly ClaimedWindow[],
): Promise<number> {
  const inserted = asSelectList(emissionOfNewRow(metric, { sql: 'm.accumulator', bindings: [] }));
  const updated = asAssignments(
    emissionOfUpdatedRow(metric, { sql: 'excluded.accumulator', bindings: [] }, 'v.revision'),
  );
  const result = await trx.raw(
    `INSERT INTO provisional.metric_values AS v (pipeline, metric, window_start, window_end,
         group_key, key_values, accumulator, last_committed_at, shard, value, revision, pending,
         emitted_at)
       SELECT ?, ?, w.window_start, w.window_end, w.group_key, m.key_values, m.accumulator,
              m.last_committed_at, w.shard, ${inserted.sql}
         FROM unnest(?::timestamptz[], ?::timestamptz[], ?::text[], ?::integer[])
                WITH ORDINALITY AS w(window_start, window_end, group_key, shard, position)
         CROSS JOIN LATERAL (
           SELECT (array_agg(p.key_values))[1] AS key_values,
                  stream.merged_accumulator(p.accumulator) AS accumulator,
                  max(p.last_committed_at) AS last_committed_at
             FROM stream.window_partials AS p
            WHERE p.pipeline = ? AND p.metric = ? AND p.window_start = w.window_start
              AND p.window_end = w.window_end AND p.group_key = w.group_key) AS m
        WHERE m.key_values IS NOT NULL
        ORDER BY w.position
     ON CONFLICT (pipeline, metric, window_start, window_end, group_key) DO UPDATE SET
       accumulator = excluded.accumulator, last_committed_at = excluded.last_committed_at,
       shard = excluded.shard, ${updated.sql}, updated_at = clock_timestamp()`,
    [
      pipeline,
      metric.name,
      ...inserted.bindings,
      windows.map((window) => window.window_start.toISOString()),
      windows.map((window) => window.window_end.toISOString()),
      windows.map((window) => window.group_key),
      windows.map((window) => window.shard),
      pipeline,
      metric.name,
      ...updated.bindings,
    ],
  );
  return (result as { rowCount: number }).rowCount;
}
