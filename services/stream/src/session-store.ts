import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { asAssignments, asSelectList, emissionOfNewRow, emissionOfUpdatedRow } from './emission';
import { writeLateContributions } from './late-ledger';
import {
  applicableBatches,
  pendingFromQueued,
  watermarksBehindQueue,
  type QueuedSessionInput,
  type QueuedWatermarks,
} from './session-queue';
import { compareTuples, groupedByMetric } from './sql-batches';
import type { SessionStateRow } from './warehouse-tables';
import {
  planDueSessions,
  planSessionChanges,
  sessionKey,
  type LateContribution,
  type PendingSessions,
  type SessionChange,
} from './windowing/plan';
import { defersSessionRows } from './windowing/session-rows';
import { compactEntries, expandEntries, type SessionState } from './windowing/sessions';

// Session windows: their contributions queue in stream.session_inbox by the emission shard of
// their key, and the consumer owning a shard applies its queue against stream.session_state and
// writes the sessions' provisional rows: every session key has one writer.

/**
 * The stored session state of the keys the queued contributions touch (empty for a key never
 * seen). Only the applier of the key's shard reads and writes its session state
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
  // A probe per key, whatever the planner believes (see knownRowVersions).
  const stored = await trx.raw<{ rows: StoredSessionState[] }>(
    `SELECT wanted.metric, wanted.group_key, stored.event_times, stored.measures,
            stored.closed_until_ms, stored.rows_until_ms
       FROM unnest(?::text[], ?::text[]) AS wanted(metric, group_key)
       CROSS JOIN LATERAL (
         SELECT event_times, measures, closed_until_ms, rows_until_ms
           FROM stream.session_state AS s
          WHERE s.pipeline = ? AND s.metric = wanted.metric AND s.group_key = wanted.group_key
          LIMIT 1) AS stored`,
    [keys.map((key) => key.metric), keys.map((key) => key.groupKey), pipeline],
  );
  for (const row of stored.rows) states.set(sessionKey(row.metric, row.group_key), stateOf(row));
  return states;
}

/** The columns a key's state is rebuilt from (`stateOf`), with its key's values. */
export const STORED_STATE_COLUMNS = [
  'metric',
  'group_key',
  'key_values',
  'event_times',
  'measures',
  'closed_until_ms',
  'rows_until_ms',
] as const;

/** What a key's state is rebuilt from. */
export type StoredSessionState = Pick<
  SessionStateRow,
  'metric' | 'group_key' | 'event_times' | 'measures' | 'closed_until_ms' | 'rows_until_ms'
>;

/** A key's state from its stored row. */
export function stateOf(row: StoredSessionState): SessionState {
  return {
    entries: expandEntries(row.event_times, row.measures),
    closedUntilMs: row.closed_until_ms === null ? null : Number(row.closed_until_ms),
    rowsUntilMs: rowsUntilFromColumn(row.rows_until_ms),
  };
}

/**
 * `rows_until_ms` as stored: the largest bigint for every session (state stored before rows were
 * deferred has them all), the smallest for none (migration 0025).
 */
const ALL_ROWS = '9223372036854775807';
const NO_ROWS = '-9223372036854775808';

function rowsUntilFromColumn(value: string): number {
  if (value === ALL_ROWS) return Infinity;
  return value === NO_ROWS ? -Infinity : Number(value);
}

function rowsUntilColumn(rowsUntilMs: number): string {
  if (rowsUntilMs === Infinity) return ALL_ROWS;
  return rowsUntilMs === -Infinity ? NO_ROWS : String(rowsUntilMs);
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

/** The queued session contributions an application takes: those of one emission shard. */
export interface SessionShard {
  topic: string;
  shard: number;
}

/**
 * Applies the oldest queued session contributions of one emission shard (`stream.session_inbox`)
 * inside the caller's transaction, and deletes them from the queue: exactly once. Every key of
 * the shard has one writer: the consumer owning the shard, one transaction at a time (a tried
 * transaction-scoped advisory lock; undefined when another transaction holds it), in queue
 * order, so a partition's batches are applied in their order. Lateness is judged against the
 * watermarks the queued batches were applied under (the smallest of them), not against those of
 * the moment it runs, which may be far ahead when the queue is behind.
 *
 * Contributions queued before sessions were sharded (no shard) are applied first, whole, under
 * the pipeline's exclusive lock (the lock every applier of the pipeline holds shared).
 */
export async function applyQueuedSessions(
  trx: Knex.Transaction,
  pipeline: string,
  shard: SessionShard,
  metrics: readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  options: { maxBatches?: number } = {},
): Promise<QueuedSessionsResult | undefined> {
  // One statement: whether contributions queued without a shard wait (they go first, under the
  // pipeline's exclusive lock), and the lock that takes, or else the shard's.
  const locks = sessionLocks(pipeline, shard);
  const claim = await trx.raw<{ rows: { unsharded: boolean; locked: boolean }[] }>(
    `SELECT waiting.unsharded,
            CASE WHEN waiting.unsharded THEN pg_try_advisory_xact_lock(hashtext(?))
                 ELSE pg_try_advisory_xact_lock_shared(hashtext(?))
                      AND pg_try_advisory_xact_lock(hashtext(?)) END AS locked
       FROM (SELECT EXISTS (SELECT 1 FROM stream.session_inbox
                             WHERE pipeline = ? AND topic IS NULL) AS unsharded) AS waiting`,
    [locks.pipeline, locks.pipeline, locks.shard, pipeline],
  );
  const { unsharded, locked } = claim.rows[0] ?? { unsharded: false, locked: false };
  if (!locked) return undefined;
  if (!unsharded) return applyQueue(trx, pipeline, shard, metrics, watermarks, options);
  const result = await applyQueue(trx, pipeline, null, metrics, watermarks, options);
  // The shard's own contributions may wait behind those.
  return { ...result, more: result.heldBackBy.length === 0 };
}

/**
 * The advisory locks of a shard's session keys: the pipeline's, held shared by every writer of a
 * shard and exclusive by the applier of contributions queued without one, and the shard's own.
 */
function sessionLocks(pipeline: string, shard: SessionShard): { pipeline: string; shard: string } {
  const pipelineLock = `tidemark.session_inbox:${pipeline}`;
  return { pipeline: pipelineLock, shard: `${pipelineLock}:${shard.topic}:${shard.shard}` };
}

/** Applies the oldest queued batches of a shard (null: those queued without one). */
async function applyQueue(
  trx: Knex.Transaction,
  pipeline: string,
  shard: SessionShard | null,
  metrics: readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  options: { maxBatches?: number },
): Promise<QueuedSessionsResult> {
  const maxBatches = options.maxBatches ?? 32;
  const queue = () => {
    const rows = trx('stream.session_inbox').where({ pipeline });
    return shard === null
      ? rows.whereNull('topic')
      : rows.where({ topic: shard.topic, shard: shard.shard });
  };
  // One more than taken, to tell whether more are queued.
  const read: { id: string; inputs: QueuedSessionInput[]; watermarks: QueuedWatermarks }[] =
    await queue()
      .orderBy('id')
      .limit(maxBatches + 1)
      .select('id', 'inputs', 'watermarks');
  const { applicable: taken, heldBackBy } = applicableBatches(read.slice(0, maxBatches), metrics);
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
  await writeSessionChanges(trx, pipeline, shard?.shard ?? null, sessionChanges);
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
    more: heldBackBy.length === 0 && read.length > taken.length,
    inputs: queued.length,
    sessions: sessionChanges.length,
    late,
    heldBackBy,
  };
}

/** What one `writeDueSessions` wrote; undefined when another consumer holds the shard. */
export interface DueSessionsResult {
  /** Keys with sessions that became due, and those sessions (rows written, pending). */
  keys: number;
  sessions: number;
  /** Whether more keys may be due than were read. */
  more: boolean;
}

/**
 * Writes the provisional rows of the sessions the watermark has passed, of one shard's keys of a
 * metric whose rows wait until due (`session-rows.ts`), inside the caller's transaction and
 * under the shard's lock, so each key still has one writer. They are written pending, for the
 * tick's emission that follows in the same transaction; the keys' state records the rows. A key
 * read before its session is due (`due_from_ms` is rounded down) is left as it is. The owner of
 * shard 0 also takes keys applied without a shard.
 */
export async function writeDueSessions(
  trx: Knex.Transaction,
  pipeline: string,
  shard: SessionShard,
  metric: MetricDefinition,
  watermarkMs: number | null,
  options: { maxKeys?: number } = {},
): Promise<DueSessionsResult | undefined> {
  const none = { keys: 0, sessions: 0, more: false };
  if (watermarkMs === null || !defersSessionRows(metric)) return none;
  const locks = sessionLocks(pipeline, shard);
  const claim = await trx.raw<{ rows: { locked: boolean }[] }>(
    `SELECT pg_try_advisory_xact_lock_shared(hashtext(?))
            AND pg_try_advisory_xact_lock(hashtext(?)) AS locked`,
    [locks.pipeline, locks.shard],
  );
  if (claim.rows[0]?.locked !== true) return undefined;
  const maxKeys = options.maxKeys ?? 5_000;
  const dueOf = (stored: number | null) =>
    trx('stream.session_state')
      .where({ pipeline, metric: metric.name })
      .andWhere((query) =>
        stored === null ? void query.whereNull('shard') : void query.where('shard', stored),
      )
      .andWhere('due_from_ms', '<=', watermarkMs)
      .orderBy('due_from_ms')
      .limit(maxKeys)
      .select(...STORED_STATE_COLUMNS);
  let result = none;
  for (const stored of shard.shard === 0 ? [0, null] : [shard.shard]) {
    const due = await dueOf(stored);
    const changes = due.flatMap((row) => {
      const state = stateOf(row);
      const key = { groupKey: row.group_key, keyValues: row.key_values };
      return planDueSessions(metric, key, state, watermarkMs) ?? [];
    });
    await writeSessionChanges(trx, pipeline, stored, changes);
    result = {
      keys: result.keys + changes.length,
      sessions: result.sessions + changes.reduce((sum, change) => sum + change.written.length, 0),
      more: result.more || due.length === maxKeys,
    };
  }
  return result;
}

/**
 * Replaces the rows of sessions that changed, in three statements whatever the batch's size;
 * the rows record their emission shard (null for contributions queued without one).
 */
async function writeSessionChanges(
  trx: Knex.Transaction,
  pipeline: string,
  shard: number | null,
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
           window_end, key_values, accumulator, last_committed_at, shard, value, revision,
           pending, emitted_at)
         SELECT ?, ?, s.group_key, s.window_start, s.window_end, s.key_values, s.accumulator,
           NULLIF(s.last_committed_at, '')::timestamptz, ?::integer, ${inserted.sql}
           FROM unnest(?::text[], ?::timestamptz[], ?::timestamptz[], ?::jsonb[], ?::jsonb[],
             ?::text[])
             AS s(group_key, window_start, window_end, key_values, accumulator, last_committed_at)
       ON CONFLICT (pipeline, metric, window_start, window_end, group_key) DO UPDATE SET
         accumulator = excluded.accumulator,
         last_committed_at = COALESCE(excluded.last_committed_at, v.last_committed_at),
         shard = excluded.shard, ${merged.sql}`,
      [
        pipeline,
        metric.name,
        shard,
        ...inserted.bindings,
        rows.map(({ change }) => change.groupKey),
        rows.map(({ session }) => new Date(session.startMs).toISOString()),
        rows.map(({ session }) => new Date(session.endMs).toISOString()),
        rows.map(({ change }) => JSON.stringify(change.keyValues)),
        rows.map(({ accumulator }) => JSON.stringify(accumulator)),
        // '' for rows written when due, which no change of this batch touched.
        rows.map(({ change }) =>
          change.lastCommittedAtMs === null ? '' : new Date(change.lastCommittedAtMs).toISOString(),
        ),
        ...merged.bindings,
      ],
    );
  }
  // Only the applier of the keys' shard writes their session state: a plain upsert, in key order.
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
        shard,
        rows_until_ms: rowsUntilColumn(change.state.rowsUntilMs),
        due_from_ms: change.dueFromMs,
      };
    })
    .sort((a, b) => compareTuples([a.metric, a.group_key], [b.metric, b.group_key]));
  await trx.raw(
    `INSERT INTO stream.session_state AS s (pipeline, metric, group_key, key_values, event_times,
         measures, closed_until_ms, shard, rows_until_ms, due_from_ms)
       SELECT pipeline, metric, group_key, key_values, event_times, measures, closed_until_ms,
              shard, rows_until_ms, due_from_ms
         FROM jsonb_to_recordset(?::jsonb) AS changed(pipeline text, metric text, group_key text,
                key_values jsonb, event_times bigint[], measures jsonb, closed_until_ms bigint,
                shard integer, rows_until_ms bigint, due_from_ms bigint)
     ON CONFLICT (pipeline, metric, group_key) DO UPDATE
       SET event_times = excluded.event_times, measures = excluded.measures,
           closed_until_ms = excluded.closed_until_ms, shard = excluded.shard,
           rows_until_ms = excluded.rows_until_ms, due_from_ms = excluded.due_from_ms`,
    [JSON.stringify(states)],
  );
}
