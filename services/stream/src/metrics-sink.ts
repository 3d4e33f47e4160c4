import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { contributionOf } from './windowing/contribution';
import {
  rowId,
  sessionKey,
  type BatchPlan,
  type KeyedChange,
  type PlannerState,
  type SessionChange,
} from './windowing/plan';
import type { SessionState } from './windowing/sessions';

/** The stored position of one partition: the next offset to read and the event time reached. */
export interface PartitionPosition {
  nextOffset: bigint;
  maxEventTimeMs: number | undefined;
}

/** Locks and reads a partition's stored position; undefined when the pipeline never stored one. */
export async function lockPosition(
  trx: Knex.Transaction,
  pipeline: string,
  topic: string,
  partition: number,
): Promise<PartitionPosition | undefined> {
  const row = await trx('ops.consumer_offsets')
    .where({ group_id: pipeline, topic, partition })
    .forUpdate()
    .first('next_offset', 'max_event_time_ms');
  if (!row) return undefined;
  return {
    nextOffset: BigInt(row.next_offset),
    maxEventTimeMs: row.max_event_time_ms === null ? undefined : Number(row.max_event_time_ms),
  };
}

/** Every stored position of a pipeline's partitions of some topics. */
export async function readPositions(
  db: Knex,
  pipeline: string,
  topics: readonly string[],
): Promise<Map<string, PartitionPosition>> {
  const rows = await db('ops.consumer_offsets')
    .where({ group_id: pipeline })
    .whereIn('topic', [...topics])
    .select('topic', 'partition', 'next_offset', 'max_event_time_ms');
  return new Map(
    rows.map((row) => [
      `${row.topic}/${row.partition}`,
      {
        nextOffset: BigInt(row.next_offset),
        maxEventTimeMs: row.max_event_time_ms === null ? undefined : Number(row.max_event_time_ms),
      },
    ]),
  );
}

/** The stored watermarks of a pipeline's metrics. */
export async function readWatermarks(db: Knex, pipeline: string): Promise<Map<string, number>> {
  const rows = await db('stream.watermarks').where({ pipeline }).select('metric', 'watermark');
  return new Map(rows.map((row) => [row.metric as string, new Date(row.watermark).getTime()]));
}

/**
 * Loads what planning a batch needs, inside its transaction: the rows' last applied LSNs and the
 * touched keys' session state, locked so concurrent consumers of other partitions wait.
 */
export async function loadPlannerState(
  trx: Knex.Transaction,
  pipeline: string,
  changes: readonly KeyedChange[],
  metricsOf: (table: string) => readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
): Promise<PlannerState> {
  const state: PlannerState = {
    rowVersions: new Map(),
    sessions: new Map(),
    watermarks: new Map(watermarks),
  };
  const rows = new Map<string, [string, string]>();
  const sessionKeys = new Map<string, [string, string]>();
  for (const { table, primaryKey, event } of changes) {
    rows.set(rowId(table, primaryKey), [table, primaryKey]);
    for (const metric of metricsOf(table)) {
      if (metric.window.kind !== 'session') continue;
      for (const image of [event.before, event.after]) {
        const contribution = image && contributionOf(metric, image);
        if (contribution) {
          sessionKeys.set(sessionKey(metric.name, contribution.groupKey), [
            metric.name,
            contribution.groupKey,
          ]);
        }
      }
    }
  }
  if (rows.size > 0) {
    const [tables, keys] = unzip([...rows.values()]);
    const found = await trx('stream.row_versions')
      .where({ pipeline })
      .whereRaw('(source_table, primary_key) IN (SELECT * FROM unnest(?::text[], ?::text[]))', [
        tables,
        keys,
      ])
      .select('source_table', 'primary_key', 'lsn');
    for (const row of found) {
      state.rowVersions.set(rowId(row.source_table, row.primary_key), Number(row.lsn));
    }
  }
  if (sessionKeys.size > 0) {
    const sorted = [...sessionKeys.values()].sort(compareTuples);
    const [metrics, groups] = unzip(sorted);
    const found = await trx('stream.session_state')
      .where({ pipeline })
      .whereRaw('(metric, group_key) IN (SELECT * FROM unnest(?::text[], ?::text[]))', [
        metrics,
        groups,
      ])
      .orderBy(['metric', 'group_key'])
      .forUpdate()
      .select('metric', 'group_key', 'entries', 'closed_until_ms');
    for (const row of found) {
      const stored: SessionState = {
        entries: row.entries,
        closedUntilMs: row.closed_until_ms === null ? null : Number(row.closed_until_ms),
      };
      state.sessions.set(sessionKey(row.metric, row.group_key), stored);
    }
  }
  return state;
}

/** What a batch's plan wrote. */
export interface MetricsWriteResult {
  windows: number;
  sessions: number;
  late: number;
}

/**
 * Writes a batch's plan inside its transaction: window deltas merged into the stored
 * accumulators (in key order, so concurrent consumers cannot deadlock), session rows replaced,
 * row versions advanced and late contributions recorded, each idempotent.
 */
export async function writePlan(
  trx: Knex.Transaction,
  pipeline: string,
  plan: BatchPlan,
): Promise<MetricsWriteResult> {
  const windowRows = plan.windowDeltas
    .map((delta) => ({
      metric: delta.metric,
      row: {
        pipeline,
        metric: delta.metric.name,
        window_start: new Date(delta.window.startMs),
        window_end: new Date(delta.window.endMs),
        group_key: delta.groupKey,
        key_values: JSON.stringify(delta.keyValues),
        accumulator: JSON.stringify(delta.delta),
        last_committed_at: new Date(delta.lastCommittedAtMs),
      },
    }))
    .sort(
      (a, b) =>
        compareTuples([a.row.metric, a.row.group_key], [b.row.metric, b.row.group_key]) ||
        a.row.window_start.getTime() - b.row.window_start.getTime(),
    );
  // One statement per metric, in metric order: rows are locked in the same order by every
  // consumer, and `on_update` values are emitted by the very statement that merges them.
  for (const rows of groupedByMetric(windowRows)) {
    const metric = rows[0]?.metric as MetricDefinition;
    const merged =
      'stream.merge_accumulator(provisional.metric_values.accumulator, excluded.accumulator)';
    for (const chunk of chunks(rows, 2_000)) {
      await trx('provisional.metric_values')
        .insert(
          chunk.map(({ row }) => ({ ...row, ...insertedEmission(trx, metric, row.accumulator) })),
        )
        .onConflict(['pipeline', 'metric', 'window_start', 'window_end', 'group_key'])
        .merge({
          accumulator: trx.raw(merged),
          last_committed_at: trx.raw(
            'GREATEST(provisional.metric_values.last_committed_at, excluded.last_committed_at)',
          ),
          ...mergedEmission(trx, metric, merged),
          updated_at: trx.raw('clock_timestamp()'),
        });
    }
  }

  await writeSessionChanges(trx, pipeline, plan.sessionChanges);

  const versions = [...plan.rowVersions.values()]
    .map((version) => ({
      pipeline,
      source_table: version.table,
      primary_key: version.primaryKey,
      lsn: version.lsn,
    }))
    .sort((a, b) =>
      compareTuples([a.source_table, a.primary_key], [b.source_table, b.primary_key]),
    );
  for (const chunk of chunks(versions, 5_000)) {
    await trx('stream.row_versions')
      .insert(chunk)
      .onConflict(['pipeline', 'source_table', 'primary_key'])
      .merge({ lsn: trx.raw('GREATEST(stream.row_versions.lsn, excluded.lsn)') });
  }

  const lateRows = plan.late.map((entry) => ({
    pipeline,
    metric: entry.metric,
    window_start: entry.window ? new Date(entry.window.startMs) : null,
    window_end: entry.window ? new Date(entry.window.endMs) : null,
    group_key: entry.groupKey,
    key_values: entry.keyValues === null ? null : JSON.stringify(entry.keyValues),
    source_table: entry.table,
    primary_key: entry.primaryKey,
    lsn: entry.lsn,
    op: entry.op,
    sign: entry.sign,
    event_time: entry.eventTimeMs === null ? null : new Date(entry.eventTimeMs),
    measure: JSON.stringify(entry.measure),
    reason: entry.reason,
    watermark: entry.watermarkMs === null ? null : new Date(entry.watermarkMs),
  }));
  for (const chunk of chunks(lateRows, 2_000)) {
    await trx('ops.late_events').insert(chunk).onConflict().ignore();
  }
  return {
    windows: windowRows.length,
    sessions: plan.sessionChanges.length,
    late: lateRows.length,
  };
}

/** Replaces the rows of sessions that changed, in three statements whatever the batch's size. */
async function writeSessionChanges(
  trx: Knex.Transaction,
  pipeline: string,
  changes: readonly SessionChange[],
): Promise<void> {
  if (changes.length === 0) return;
  const removed = changes.flatMap((change) =>
    change.removed.map((session) => ({ change, session })),
  );
  if (removed.length > 0) {
    await trx.raw(
      `DELETE FROM provisional.metric_values AS v
        USING unnest(?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[])
          AS gone(metric, group_key, window_start, window_end)
        WHERE v.pipeline = ? AND v.metric = gone.metric AND v.group_key = gone.group_key
          AND v.window_start = gone.window_start AND v.window_end = gone.window_end`,
      [
        removed.map(({ change }) => change.metric.name),
        removed.map(({ change }) => change.groupKey),
        removed.map(({ session }) => new Date(session.startMs).toISOString()),
        removed.map(({ session }) => new Date(session.endMs).toISOString()),
        pipeline,
      ],
    );
  }
  const written = changes.flatMap((change) =>
    change.written.map(({ session, accumulator }) => ({
      metric: change.metric,
      row: {
        pipeline,
        metric: change.metric.name,
        group_key: change.groupKey,
        window_start: new Date(session.startMs),
        window_end: new Date(session.endMs),
        key_values: JSON.stringify(change.keyValues),
        accumulator: JSON.stringify(accumulator),
        last_committed_at: new Date(change.lastCommittedAtMs),
      },
    })),
  );
  for (const rows of groupedByMetric(written)) {
    const metric = rows[0]?.metric as MetricDefinition;
    for (const chunk of chunks(rows, 2_000)) {
      await trx('provisional.metric_values')
        .insert(
          chunk.map(({ row }) => ({ ...row, ...insertedEmission(trx, metric, row.accumulator) })),
        )
        .onConflict(['pipeline', 'metric', 'window_start', 'window_end', 'group_key'])
        .merge({
          accumulator: trx.raw('excluded.accumulator'),
          last_committed_at: trx.raw('excluded.last_committed_at'),
          ...mergedEmission(trx, metric, 'excluded.accumulator'),
        });
    }
  }
  const states = changes.map((change) => ({
    pipeline,
    metric: change.metric.name,
    group_key: change.groupKey,
    key_values: JSON.stringify(change.keyValues),
    entries: JSON.stringify(change.state.entries),
    closed_until_ms: change.state.closedUntilMs,
  }));
  for (const chunk of chunks(states, 2_000)) {
    await trx('stream.session_state')
      .insert(chunk)
      .onConflict(['pipeline', 'metric', 'group_key'])
      .merge(['entries', 'closed_until_ms']);
  }
}

/** Stores a partition's next offset and event time reached, in the batch's transaction. */
export async function storePosition(
  trx: Knex.Transaction,
  pipeline: string,
  topic: string,
  partition: number,
  position: PartitionPosition,
): Promise<void> {
  await trx('ops.consumer_offsets')
    .insert({
      group_id: pipeline,
      topic,
      partition,
      next_offset: position.nextOffset.toString(),
      max_event_time_ms: position.maxEventTimeMs ?? null,
      updated_at: trx.fn.now(),
    })
    .onConflict(['group_id', 'topic', 'partition'])
    .merge(['next_offset', 'max_event_time_ms', 'updated_at']);
}

/**
 * Advances the stored watermarks, then applies each metric's emit policy: pending values are
 * emitted (value computed from the accumulator, revision + 1) on every update, when an
 * `every` interval is due, or once their window has ended under the watermark; windows past
 * their allowed lateness are closed, after a last emission of anything pending.
 */
export async function emitAndClose(
  trx: Knex.Transaction,
  pipeline: string,
  metrics: readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  intervalDue: (metric: MetricDefinition) => boolean,
): Promise<{ emitted: number; closed: number }> {
  let emitted = 0;
  let closed = 0;
  for (const metric of metrics) {
    const watermarkMs = watermarks.get(metric.name) ?? null;
    if (watermarkMs !== null) {
      await trx('stream.watermarks')
        .insert({ pipeline, metric: metric.name, watermark: new Date(watermarkMs) })
        .onConflict(['pipeline', 'metric'])
        .merge({
          watermark: trx.raw('GREATEST(stream.watermarks.watermark, excluded.watermark)'),
          updated_at: trx.raw('clock_timestamp()'),
        });
    }
    const watermark = watermarkMs === null ? null : new Date(watermarkMs);
    const closing = watermark === null ? null : new Date(watermarkMs! - metric.allowedLatenessMs);
    const due = (query: Knex.QueryBuilder) => {
      if (metric.emit.kind === 'on_update') return query;
      if (metric.emit.kind === 'every' && intervalDue(metric)) return query;
      if (metric.emit.kind === 'on_window_close' && watermark) {
        return query.andWhere('window_end', '<=', watermark);
      }
      if (closing) return query.andWhere('window_end', '<=', closing);
      return query.andWhereRaw('false');
    };
    emitted += await due(
      trx('provisional.metric_values').where({ pipeline, metric: metric.name, pending: true }),
    ).update({
      value: trx.raw('stream.accumulator_value(?, accumulator)', [metric.aggregate.fn]),
      revision: trx.raw('revision + 1'),
      pending: false,
      emitted_at: trx.raw('clock_timestamp()'),
    });
    if (closing) {
      closed += await trx('provisional.metric_values')
        .where({ pipeline, metric: metric.name, status: 'open' })
        .andWhere('window_end', '<=', closing)
        .update({ status: 'closed' });
    }
  }
  return { emitted, closed };
}

/** Consecutive items of the same metric, for one statement each. */
function groupedByMetric<T extends { metric: MetricDefinition }>(items: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.metric.name) ?? [];
    group.push(item);
    groups.set(item.metric.name, group);
  }
  return [...groups.keys()].sort().map((name) => groups.get(name) as T[]);
}

/** A new row's emission columns: emitted at once under `on_update`, else pending. */
function insertedEmission(trx: Knex.Transaction, metric: MetricDefinition, accumulator: string) {
  if (metric.emit.kind !== 'on_update') return { pending: true };
  return {
    value: trx.raw('stream.accumulator_value(?, ?::jsonb)', [metric.aggregate.fn, accumulator]),
    revision: 1,
    pending: false,
    emitted_at: trx.raw('clock_timestamp()'),
  };
}

/** An updated row's emission columns, from its new accumulator (an SQL expression). */
function mergedEmission(trx: Knex.Transaction, metric: MetricDefinition, accumulatorSql: string) {
  if (metric.emit.kind !== 'on_update') return { pending: true };
  return {
    value: trx.raw(`stream.accumulator_value(?, ${accumulatorSql})`, [metric.aggregate.fn]),
    revision: trx.raw('provisional.metric_values.revision + 1'),
    pending: false,
    emitted_at: trx.raw('clock_timestamp()'),
  };
}

function unzip(pairs: readonly [string, string][]): [string[], string[]] {
  return [pairs.map((pair) => pair[0]), pairs.map((pair) => pair[1])];
}

function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let index = 0; index < a.length; index += 1) {
    const left = a[index] ?? '';
    const right = b[index] ?? '';
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}
