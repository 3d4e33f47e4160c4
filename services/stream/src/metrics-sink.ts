import type { MetricDefinition, Row } from '@tidemark/contracts';
import type { Knex } from 'knex';
import {
  planChanges,
  planSessionChanges,
  rowId,
  sessionKey,
  type BatchPlan,
  type KeyedChange,
  type LateContribution,
  type PendingSessions,
  type PriorImages,
  type SessionChange,
} from './windowing/plan';
import type { MeasureValue } from './windowing/accumulator';
import type { LsnReference } from './plausibility';
import {
  asAssignments,
  asSelectList,
  closingBoundary,
  emissionOfNewRow,
  emissionOfPending,
  emissionOfUpdatedRow,
  pendingDue,
  type EmissionColumns,
} from './emission';
import {
  applicableBatches,
  pendingFromQueued,
  queuedInputsOf,
  watermarksBehindQueue,
  type QueuedSessionInput,
  type QueuedWatermarks,
} from './session-queue';
import { compactEntries, expandEntries, type SessionState } from './windowing/sessions';

/** The stored position of one partition: the next offset to read and the event time reached. */
export interface PartitionPosition {
  nextOffset: bigint;
  maxEventTimeMs: number | undefined;
  /** The highest LSN accepted on the partition, against which the next ones are judged. */
  lsnReference?: LsnReference | undefined;
}

const POSITION_COLUMNS = [
  'next_offset',
  'max_event_time_ms',
  'max_lsn',
  'max_lsn_committed_at_ms',
] as const;

function positionOf(row: Record<(typeof POSITION_COLUMNS)[number], unknown>): PartitionPosition {
  return {
    nextOffset: BigInt(row.next_offset as string),
    maxEventTimeMs: row.max_event_time_ms === null ? undefined : Number(row.max_event_time_ms),
    lsnReference:
      row.max_lsn === null
        ? undefined
        : { lsn: Number(row.max_lsn), committedAtMs: Number(row.max_lsn_committed_at_ms) },
  };
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
    .first(...POSITION_COLUMNS);
  return row ? positionOf(row) : undefined;
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
    .select('topic', 'partition', ...POSITION_COLUMNS);
  return new Map(rows.map((row) => [`${row.topic}/${row.partition}`, positionOf(row)]));
}

/** The stored watermarks of a pipeline's metrics. */
export async function readWatermarks(db: Knex, pipeline: string): Promise<Map<string, number>> {
  const rows = await db('stream.watermarks').where({ pipeline }).select('metric', 'watermark');
  return new Map(rows.map((row) => [row.metric as string, new Date(row.watermark).getTime()]));
}

/**
 * Each row's last applied LSN before this batch, for the rows of a batch, and in the same
 * statement its advance to the batch's largest LSN of the row. That is what the plan stores for
 * it whatever it applies (an LSN it does not apply is one at or below the stored one), so the
 * probe and the upsert are one round trip. Rows are written in key order, as every consumer
 * does, and the probe reads the versions as they were before the statement (one snapshot).
 */
async function advanceRowVersions(
  trx: Knex.Transaction,
  pipeline: string,
  changes: readonly KeyedChange[],
): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  const rows = new Map<string, { table: string; primaryKey: string; lsn: number | null }>();
  for (const { table, primaryKey, event } of changes) {
    const id = rowId(table, primaryKey);
    const lsn = event.op === 't' ? null : event.source.lsn;
    const seen = rows.get(id);
    if (!seen) rows.set(id, { table, primaryKey, lsn });
    else if (lsn !== null && (seen.lsn === null || lsn > seen.lsn)) seen.lsn = lsn;
  }
  if (rows.size === 0) return versions;
  const wanted = [...rows.values()].sort((a, b) =>
    compareTuples([a.table, a.primaryKey], [b.table, b.primaryKey]),
  );
  // One primary-key probe per row, whatever the planner believes: a pipeline's first minutes
  // have no statistics, and a hash join over every row it has stored grows with each batch.
  const found = await trx.raw<{
    rows: { source_table: string; primary_key: string; lsn: string }[];
  }>(
    `WITH wanted AS (
       SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[])
         WITH ORDINALITY AS w(source_table, primary_key, lsn, position)
     ), stored AS (
       SELECT wanted.source_table, wanted.primary_key, v.lsn
         FROM wanted CROSS JOIN LATERAL (
           SELECT lsn FROM stream.row_versions AS v
            WHERE v.pipeline = ? AND v.source_table = wanted.source_table
              AND v.primary_key = wanted.primary_key
            LIMIT 1) AS v
     ), advanced AS (
       INSERT INTO stream.row_versions (pipeline, source_table, primary_key, lsn)
         SELECT ?, source_table, primary_key, lsn FROM wanted
          WHERE lsn IS NOT NULL ORDER BY position
       ON CONFLICT (pipeline, source_table, primary_key)
         DO UPDATE SET lsn = GREATEST(stream.row_versions.lsn, excluded.lsn)
     )
     SELECT source_table, primary_key, lsn FROM stored`,
    [
      wanted.map((row) => row.table),
      wanted.map((row) => row.primaryKey),
      // A row whose changes carry no LSN is probed, not stored: null travels as SQL NULL.
      wanted.map((row) => row.lsn) as number[],
      pipeline,
      pipeline,
    ],
  );
  for (const row of found.rows) {
    versions.set(rowId(row.source_table, row.primary_key), Number(row.lsn));
  }
  return versions;
}

/**
 * For the batch's snapshot reads of rows already applied, the after-image of each row's last
 * applied change, from the raw changelog (where the pipeline landed it). Rows whose change the
 * changelog no longer holds (a dropped partition) are missing. Most batches hold no such read
 * and cost nothing here.
 */
async function loadPriorImages(
  trx: Knex.Transaction,
  changes: readonly KeyedChange[],
  rowVersions: ReadonlyMap<string, number>,
): Promise<PriorImages | undefined> {
  const wanted = new Map<string, { table: string; primaryKey: string; lsn: number }>();
  for (const { table, primaryKey, event } of changes) {
    const id = rowId(table, primaryKey);
    const lsn = rowVersions.get(id);
    if (event.op === 'r' && lsn !== undefined) wanted.set(id, { table, primaryKey, lsn });
  }
  if (wanted.size === 0) return undefined;
  const rows = [...wanted.values()];
  const found = await trx.raw<{
    rows: { source_table: string; primary_key: string; after: Row | null }[];
  }>(
    // A probe per row by the unique index's LSN prefix, whatever the planner guesses.
    `SELECT w.source_table, w.primary_key, c.after
       FROM unnest(?::text[], ?::text[], ?::bigint[]) AS w(source_table, primary_key, lsn)
       CROSS JOIN LATERAL (
         SELECT after FROM raw.change_events AS c
          WHERE c.lsn = w.lsn AND c.source_table = w.source_table
            AND c.primary_key = w.primary_key::jsonb
          ORDER BY c.id DESC LIMIT 1) AS c`,
    [rows.map((row) => row.table), rows.map((row) => row.primaryKey), rows.map((row) => row.lsn)],
  );
  return new Map(found.rows.map((row) => [rowId(row.source_table, row.primary_key), row.after]));
}

/**
 * The stored session state of the keys the queued contributions touch (empty for a key never
 * seen). Only the consumer holding the pipeline's session lock reads and writes session state
 * (`applyQueuedSessions`), so the rows need no lock of their own: one primary-key probe per key.
 */
async function loadSessionStates(
  trx: Knex.Transaction,
  pipeline: string,
  pending: PendingSessions,
): Promise<Map<string, SessionState>> {
  const states = new Map<string, SessionState>();
  if (pending.byKey.size === 0) return states;
  const keys = [...pending.byKey.values()].map(({ metric, groupKey }) => ({
    metric: metric.name,
    groupKey,
  }));
  // A probe per key, whatever the planner believes (see advanceRowVersions).
  const stored = await trx.raw<{ rows: StoredSessionState[] }>(
    `SELECT wanted.metric, wanted.group_key, stored.event_times, stored.measures,
            stored.closed_until_ms
       FROM unnest(?::text[], ?::text[]) AS wanted(metric, group_key)
       CROSS JOIN LATERAL (
         SELECT event_times, measures, closed_until_ms FROM stream.session_state AS s
          WHERE s.pipeline = ? AND s.metric = wanted.metric AND s.group_key = wanted.group_key
          LIMIT 1) AS stored`,
    [keys.map((key) => key.metric), keys.map((key) => key.groupKey), pipeline],
  );
  for (const row of stored.rows) {
    states.set(sessionKey(row.metric, row.group_key), {
      entries: expandEntries(row.event_times, row.measures),
      closedUntilMs: row.closed_until_ms === null ? null : Number(row.closed_until_ms),
    });
  }
  return states;
}

interface StoredSessionState {
  metric: string;
  group_key: string;
  event_times: string[];
  measures: MeasureValue[] | null;
  closed_until_ms: string | null;
}

/** What applying a batch's changes wrote. */
export interface MetricsWriteResult {
  plan: BatchPlan;
  windows: number;
  late: number;
}

/**
 * Applies a batch's changes to every metric inside the caller's transaction. The order keeps
 * locks short where consumers of other partitions meet: first what only this batch touches (row
 * versions, its queued session contributions, the late ledger), and last the shared provisional
 * rows, merged one metric at a time in key order. Session windows are not applied here: their
 * keys are not the partitions' keys, so the batch queues their contributions, and
 * `applyQueuedSessions` applies them. Everything is idempotent.
 */
export async function applyChanges(
  trx: Knex.Transaction,
  pipeline: string,
  changes: readonly KeyedChange[],
  metricsOf: (table: string) => readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
): Promise<MetricsWriteResult> {
  const rowVersions = await advanceRowVersions(trx, pipeline, changes);
  const priorImages = await loadPriorImages(trx, changes, rowVersions);
  const plan = planChanges(changes, metricsOf, { rowVersions, watermarks, priorImages });
  const queued = queuedInputsOf(plan.pendingSessions);
  if (queued.length > 0) {
    await trx('stream.session_inbox').insert({
      pipeline,
      inputs: JSON.stringify(queued),
      watermarks: JSON.stringify(Object.fromEntries(watermarks)),
    });
  }
  await writeLateContributions(trx, pipeline, plan.late);
  const windows = await mergeWindowDeltas(trx, pipeline, plan);
  return { plan, windows, late: plan.late.length };
}

/**
 * The watermarks to emit and close windows with: the current ones, except that a session
 * metric's does not pass the watermark of a batch whose session contributions are still queued.
 */
export async function watermarksToEmit(
  trx: Knex.Transaction,
  pipeline: string,
  metrics: readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
): Promise<Map<string, number | null>> {
  const sessionMetrics = sessionMetricNames(metrics);
  if (sessionMetrics.length === 0) return new Map(watermarks);
  const queued: { watermarks: QueuedWatermarks }[] = await trx('stream.session_inbox')
    .where({ pipeline })
    .select('watermarks');
  return watermarksBehindQueue(
    watermarks,
    queued.map((row) => row.watermarks),
    sessionMetrics,
  );
}

function sessionMetricNames(metrics: readonly MetricDefinition[]): string[] {
  return metrics.filter((metric) => metric.window.kind === 'session').map((metric) => metric.name);
}

/** What one `applyQueuedSessions` applied; undefined when another consumer is applying them. */
export interface QueuedSessionsResult {
  /** Queued batches applied, and whether more are queued behind them. */
  batches: number;
  more: boolean;
  inputs: number;
  sessions: number;
  late: LateContribution[];
  /**
   * Metrics this process does not compute that the oldest batch not applied holds: it and the
   * batches behind it stay queued for a consumer that computes them (empty: none held back).
   */
  heldBackBy: string[];
}

/**
 * Applies the oldest queued session contributions of a pipeline inside the caller's
 * transaction, and deletes them from the queue: exactly once. One consumer of the pipeline at a
 * time does it (a transaction-scoped advisory lock), in queue order, so no key waits on another
 * consumer, and a partition's batches are applied in their order. Lateness is judged against
 * the watermarks the queued batches were applied under (the smallest of them), not against
 * those of the moment it runs, which may be far ahead when the queue is behind.
 */
export async function applyQueuedSessions(
  trx: Knex.Transaction,
  pipeline: string,
  metrics: readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  options: { maxBatches?: number } = {},
): Promise<QueuedSessionsResult | undefined> {
  const maxBatches = options.maxBatches ?? 8;
  const lock = await trx.raw<{ rows: { locked: boolean }[] }>(
    'SELECT pg_try_advisory_xact_lock(hashtext(?)) AS locked',
    [`tidemark.session_inbox:${pipeline}`],
  );
  if (!lock.rows[0]?.locked) return undefined;
  // The ids first (one more than taken, to tell whether more are queued), then the contents.
  const ids: string[] = (
    await trx('stream.session_inbox')
      .where({ pipeline })
      .orderBy('id')
      .limit(maxBatches + 1)
      .select('id')
  ).map((row: { id: string }) => row.id);
  const read: { id: string; inputs: QueuedSessionInput[]; watermarks: QueuedWatermarks }[] =
    ids.length === 0
      ? []
      : await trx('stream.session_inbox')
          .whereIn('id', ids.slice(0, maxBatches))
          .orderBy('id')
          .select('id', 'inputs', 'watermarks');
  const { applicable: taken, heldBackBy } = applicableBatches(read, metrics);
  const queued = taken.flatMap((row) => row.inputs);
  const { pending } = pendingFromQueued(queued, metrics);
  const states = await loadSessionStates(trx, pipeline, pending);
  const judgedBy = watermarksBehindQueue(
    watermarks,
    taken.map((row) => row.watermarks),
    sessionMetricNames(metrics),
  );
  const { sessionChanges, late } = planSessionChanges(pending, {
    sessions: states,
    watermarks: judgedBy,
  });
  await writeLateContributions(trx, pipeline, late);
  await writeSessionChanges(trx, pipeline, sessionChanges);
  if (taken.length > 0) {
    const deleted = await trx('stream.session_inbox')
      .whereIn(
        'id',
        taken.map((row) => row.id),
      )
      .delete();
    if (deleted !== taken.length) {
      throw new Error(`applied ${taken.length} queued session batches but deleted ${deleted}`);
    }
  }
  return {
    batches: taken.length,
    more: heldBackBy.length === 0 && ids.length > taken.length,
    inputs: queued.length,
    sessions: sessionChanges.length,
    late,
    heldBackBy,
  };
}

async function writeLateContributions(
  trx: Knex.Transaction,
  pipeline: string,
  late: readonly LateContribution[],
) {
  const lateRows = late.map((entry) => ({
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
}

/**
 * Merges the window deltas into the stored accumulators: one statement per metric, in metric
 * and key order, so every consumer locks shared rows in the same order; `on_update` values are
 * emitted by the very statement that merges them.
 */
async function mergeWindowDeltas(
  trx: Knex.Transaction,
  pipeline: string,
  plan: BatchPlan,
): Promise<number> {
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
  for (const rows of groupedByMetric(windowRows)) {
    const metric = rows[0]?.metric as MetricDefinition;
    const merged =
      'stream.merge_accumulator(provisional.metric_values.accumulator, excluded.accumulator)';
    const updated = emissionOfUpdatedRow(
      metric,
      { sql: merged, bindings: [] },
      'provisional.metric_values.revision',
    );
    for (const chunk of chunks(rows, 2_000)) {
      await trx('provisional.metric_values')
        .insert(
          chunk.map(({ row }) => ({
            ...row,
            ...asKnexColumns(
              trx,
              emissionOfNewRow(metric, { sql: '?::jsonb', bindings: [row.accumulator] }),
            ),
          })),
        )
        .onConflict(['pipeline', 'metric', 'window_start', 'window_end', 'group_key'])
        .merge({
          accumulator: trx.raw(merged),
          last_committed_at: trx.raw(
            'GREATEST(provisional.metric_values.last_committed_at, excluded.last_committed_at)',
          ),
          ...asKnexColumns(trx, updated),
          updated_at: trx.raw('clock_timestamp()'),
        });
    }
  }
  return windowRows.length;
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
    // The pipeline comes as a column, not a constant: a constant the statistics do not know yet
    // (a new pipeline) makes the planner hash every row of the pipeline instead of probing keys.
    await trx.raw(
      `DELETE FROM provisional.metric_values AS v
        USING unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[])
          AS gone(pipeline, metric, group_key, window_start, window_end)
        WHERE v.pipeline = gone.pipeline AND v.metric = gone.metric
          AND v.group_key = gone.group_key AND v.window_start = gone.window_start
          AND v.window_end = gone.window_end`,
      [
        removed.map(() => pipeline),
        removed.map(({ change }) => change.metric.name),
        removed.map(({ change }) => change.groupKey),
        removed.map(({ session }) => new Date(session.startMs).toISOString()),
        removed.map(({ session }) => new Date(session.endMs).toISOString()),
      ],
    );
  }
  const written = changes.flatMap((change) =>
    change.written.map(({ session, accumulator }) => ({ change, session, accumulator })),
  );
  for (const rows of groupedByMetric(
    written.map((row) => ({ ...row, metric: row.change.metric })),
  )) {
    const metric = rows[0]?.metric as MetricDefinition;
    const inserted = asSelectList(emissionOfNewRow(metric, { sql: 's.accumulator', bindings: [] }));
    const merged = asAssignments(
      emissionOfUpdatedRow(metric, { sql: 'excluded.accumulator', bindings: [] }, 'v.revision'),
    );
    await trx.raw(
      `INSERT INTO provisional.metric_values AS v (pipeline, metric, group_key, window_start,
           window_end, key_values, accumulator, last_committed_at, value, revision, pending,
           emitted_at)
         SELECT ?, ?, s.group_key, s.window_start, s.window_end, s.key_values, s.accumulator,
           s.last_committed_at, ${inserted.sql}
           FROM unnest(?::text[], ?::timestamptz[], ?::timestamptz[], ?::jsonb[], ?::jsonb[],
             ?::timestamptz[])
             AS s(group_key, window_start, window_end, key_values, accumulator, last_committed_at)
       ON CONFLICT (pipeline, metric, window_start, window_end, group_key) DO UPDATE SET
         accumulator = excluded.accumulator, last_committed_at = excluded.last_committed_at,
         ${merged.sql}`,
      [
        pipeline,
        metric.name,
        ...inserted.bindings,
        rows.map(({ change }) => change.groupKey),
        rows.map(({ session }) => new Date(session.startMs).toISOString()),
        rows.map(({ session }) => new Date(session.endMs).toISOString()),
        rows.map(({ change }) => JSON.stringify(change.keyValues)),
        rows.map(({ accumulator }) => JSON.stringify(accumulator)),
        rows.map(({ change }) => new Date(change.lastCommittedAtMs).toISOString()),
        ...merged.bindings,
      ],
    );
  }
  // Only the holder of the session lock writes session state: a plain upsert, in key order.
  const states = changes
    .map((change) => {
      const { eventTimes, measures } = compactEntries(change.state.entries);
      return {
        pipeline,
        metric: change.metric.name,
        group_key: change.groupKey,
        key_values: change.keyValues,
        event_times: eventTimes,
        measures,
        closed_until_ms: change.state.closedUntilMs,
      };
    })
    .sort((a, b) => compareTuples([a.metric, a.group_key], [b.metric, b.group_key]));
  await trx.raw(
    `INSERT INTO stream.session_state AS s (pipeline, metric, group_key, key_values, event_times,
         measures, closed_until_ms)
       SELECT pipeline, metric, group_key, key_values, event_times, measures, closed_until_ms
         FROM jsonb_to_recordset(?::jsonb) AS changed(pipeline text, metric text, group_key text,
                key_values jsonb, event_times bigint[], measures jsonb, closed_until_ms bigint)
     ON CONFLICT (pipeline, metric, group_key) DO UPDATE
       SET event_times = excluded.event_times, measures = excluded.measures,
           closed_until_ms = excluded.closed_until_ms`,
    [JSON.stringify(states)],
  );
}

/** A partition's first position, before the pipeline has read anything from it. */
export interface PinnedPosition {
  topic: string;
  partition: number;
  nextOffset: bigint;
}

/** Stores first positions of partitions; a position already stored is kept as it is. */
export async function pinPositions(
  trx: Knex.Transaction,
  pipeline: string,
  positions: readonly PinnedPosition[],
): Promise<void> {
  if (positions.length === 0) return;
  await trx('ops.consumer_offsets')
    .insert(
      positions.map(({ topic, partition, nextOffset }) => ({
        group_id: pipeline,
        topic,
        partition,
        next_offset: nextOffset.toString(),
      })),
    )
    .onConflict(['group_id', 'topic', 'partition'])
    .ignore();
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
      max_lsn: position.lsnReference?.lsn ?? null,
      max_lsn_committed_at_ms: position.lsnReference?.committedAtMs ?? null,
      updated_at: trx.fn.now(),
    })
    .onConflict(['group_id', 'topic', 'partition'])
    .merge([
      'next_offset',
      'max_event_time_ms',
      'max_lsn',
      'max_lsn_committed_at_ms',
      'updated_at',
    ]);
}

/** Offsets of a partition that Kafka deleted before the pipeline read them. */
export interface StreamGap {
  topic: string;
  partition: number;
  /** The stored next offset: the first change never read. */
  missingFrom: bigint;
  /** The earliest offset Kafka still has: where reading goes on. */
  missingUntil: bigint;
}

/**
 * Records a gap and moves the partition's stored position past it, in one transaction, and
 * gives the position it replaced; undefined (and nothing written) when the stored position is
 * no longer the gap's start, because another consumer of the pipeline already recorded it.
 */
export async function recordGap(
  trx: Knex.Transaction,
  pipeline: string,
  gap: StreamGap,
): Promise<PartitionPosition | undefined> {
  const stored = await lockPosition(trx, pipeline, gap.topic, gap.partition);
  if (stored?.nextOffset !== gap.missingFrom) return undefined;
  await trx('ops.stream_gaps').insert({
    pipeline,
    topic: gap.topic,
    partition: gap.partition,
    missing_from: gap.missingFrom.toString(),
    missing_until: gap.missingUntil.toString(),
    max_event_time_ms: stored.maxEventTimeMs ?? null,
  });
  await storePosition(trx, pipeline, gap.topic, gap.partition, {
    ...stored,
    nextOffset: gap.missingUntil,
  });
  return stored;
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
    const due = pendingDue(metric, watermarkMs, intervalDue(metric));
    if (due.kind !== 'none') {
      const pending = trx('provisional.metric_values').where({
        pipeline,
        metric: metric.name,
        pending: true,
      });
      if (due.kind === 'ended_by') pending.andWhere('window_end', '<=', new Date(due.endMs));
      emitted += await pending.update(asKnexColumns(trx, emissionOfPending(metric)));
    }
    const closing = closingBoundary(metric, watermarkMs);
    if (closing !== null) {
      closed += await trx('provisional.metric_values')
        .where({ pipeline, metric: metric.name, status: 'open' })
        .andWhere('window_end', '<=', new Date(closing))
        .update({ status: 'closed' });
    }
  }
  return { emitted, closed };
}

/** Emission columns as knex values for an insert or an update. */
function asKnexColumns(
  trx: Knex.Transaction,
  columns: Partial<EmissionColumns>,
): Record<string, Knex.Raw> {
  return Object.fromEntries(
    Object.entries(columns).map(([column, fragment]) => [
      column,
      trx.raw(fragment.sql, [...fragment.bindings]),
    ]),
  );
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
