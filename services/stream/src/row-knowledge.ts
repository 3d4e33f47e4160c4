import type { ChangeEvent } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { rowId, type KeyedChange } from './windowing/plan';

// What a pipeline has applied of each row of a batch: the LSN of the row's last applied change,
// which tells a redelivery from a new change, whether the pipeline has seen the row at all, and
// where a snapshot read finds the row's last applied image (docs/stream-design.md, "Row
// knowledge read from the changelog"). Every change a pipeline applies is landed in the raw
// changelog in the same transaction, under its topic, partition and offset; the changelog's rows
// of each partition between where the pipeline began reading it and its stored position are the
// changes it read (of every partition of the topic: a row's changes move to another partition
// when the topic's partition count changes). Those it could not land under its own offset
// (already there: Debezium sent them again, or another pipeline landed them first) are recorded
// in stream.row_versions.

/** The batch's partition, and where the pipeline stood on it before the batch. */
export interface KnowledgeScope {
  pipeline: string;
  topic: string;
  partition: number;
  /** The batch's first offset: its own changes, landed already, are not history. */
  batchOffset: bigint;
  /** The latest change applied from the partition; undefined: none applied yet. */
  commitMark: CommitMark | undefined;
}

/**
 * The latest change a partition applied, by source commit time and then LSN: every change it
 * applied sorts at or below it. Its LSN is null when unknown (ties of commit time then sort
 * below nothing).
 */
export interface CommitMark {
  committedAtMs: number;
  lsn: number | null;
}

/**
 * Whether a change needs the row's applied history. An insert sorting after the partition's
 * mark (by commit time, then LSN: a transaction's changes share a commit time) cannot have been
 * applied before, so it needs none; updates, deletes and snapshot reads need to know whether the
 * row was seen, and any insert not past the mark may be one sent again. Truncates concern no
 * row. The mark decides only what is looked up, never what is applied.
 */
export function needsKnowledge(event: ChangeEvent, mark: CommitMark | undefined): boolean {
  if (mark === undefined || event.op === 't') return false;
  if (event.op !== 'c') return true;
  const { committedAtMs, lsn } = event.source;
  if (committedAtMs !== mark.committedAtMs) return committedAtMs < mark.committedAtMs;
  return lsn === null || mark.lsn === null || lsn <= mark.lsn;
}

/** The mark after a batch: its latest change (truncates, without an LSN, aside), or `before`. */
export function laterMark(
  changes: readonly KeyedChange[],
  before: CommitMark | undefined,
): CommitMark | undefined {
  let mark = before;
  for (const { event } of changes) {
    const { committedAtMs, lsn } = event.source;
    if (lsn === null) continue;
    const later =
      mark === undefined ||
      committedAtMs > mark.committedAtMs ||
      (committedAtMs === mark.committedAtMs && mark.lsn !== null && lsn > mark.lsn);
    if (later) mark = { committedAtMs, lsn };
  }
  return mark;
}

/** The earliest source commit time of a batch's changes and `before`. */
export function earlierCommit(
  changes: readonly KeyedChange[],
  before: number | undefined,
): number | undefined {
  let earliest = before;
  for (const { event } of changes) {
    const at = event.source.committedAtMs;
    if (earliest === undefined || at < earliest) earliest = at;
  }
  return earliest;
}

/**
 * How far back the first look-up of a batch's rows reads the changelog: a day before its
 * earliest change. Most rows a batch changes were changed lately, and a row's last change is
 * its latest by commit time, so one found there is the last; the others are looked up again
 * over the pipeline's whole history. Each day of the changelog is a partition with its own
 * index: reading a day costs each key a probe.
 */
export const RECENT_HISTORY_MS = 86_400_000;

// One look-up per row: its changes in the changelog under the offsets the pipeline read (its
// stored positions; of the batch's topic when given, and that batch's own and the offsets Kafka
// deleted before the pipeline read them excepted) committed since a time, and its recorded
// version.
const KNOWN_ROWS = `
  SELECT w.source_table, w.primary_key, c.lsn AS landed_lsn, v.lsn AS recorded_lsn
    FROM unnest(?::text[], ?::text[]) AS w(source_table, primary_key)
    LEFT JOIN LATERAL (
      SELECT max(c.lsn) AS lsn
        FROM raw.change_events AS c
        JOIN ops.consumer_offsets AS read
          ON read.group_id = ? AND read.topic = c.kafka_topic
         AND read.partition = c.kafka_partition
         AND c.kafka_offset >= read.first_offset AND c.kafka_offset < read.next_offset
       WHERE c.primary_key = w.primary_key::jsonb AND c.source_table = w.source_table
         AND (?::text IS NULL OR c.kafka_topic = ?) AND c.op <> 't'
         AND (?::integer IS NULL OR NOT (c.kafka_partition = ? AND c.kafka_offset >= ?))
         AND c.committed_at >= ?::timestamptz
         AND NOT EXISTS (
           SELECT 1 FROM ops.stream_gaps AS g
            WHERE g.pipeline = read.group_id AND g.topic = c.kafka_topic
              AND g.partition = c.kafka_partition
              AND c.kafka_offset >= g.missing_from AND c.kafka_offset < g.missing_until)
    ) AS c ON true
    LEFT JOIN LATERAL (
      SELECT v.lsn FROM stream.row_versions AS v
       WHERE v.pipeline = ? AND v.source_table = w.source_table AND v.primary_key = w.primary_key
       LIMIT 1
    ) AS v ON true
   WHERE c.lsn IS NOT NULL OR v.lsn IS NOT NULL`;

/**
 * Each row's last applied LSN before this batch, for the batch's changes that need it
 * (`needsKnowledge`); rows not in the map were never applied, or need not be known.
 */
export async function knownRowVersions(
  trx: Knex.Transaction,
  scope: KnowledgeScope,
  changes: readonly KeyedChange[],
): Promise<Map<string, number>> {
  const wanted = new Map<string, { table: string; primaryKey: string }>();
  let earliest = Infinity;
  for (const { table, primaryKey, event } of changes) {
    if (needsKnowledge(event, scope.commitMark)) {
      wanted.set(rowId(table, primaryKey), { table, primaryKey });
      earliest = Math.min(earliest, event.source.committedAtMs);
    }
  }
  if (wanted.size === 0) return new Map();
  const rows = [...wanted.values()];
  const recentSince = earliest - RECENT_HISTORY_MS;
  const recent = await lookUp(trx, scope.pipeline, rows, scope, recentSince);
  const rest = rows.filter((row) => !recent.landed.has(rowId(row.table, row.primaryKey)));
  if (rest.length === 0) return recent.versions;
  const since = await historyStartOf(trx, scope.pipeline, scope.topic);
  if (!readsOlderHistory(since, recentSince)) return recent.versions;
  const older = await lookUp(trx, scope.pipeline, rest, scope, since);
  for (const [id, lsn] of older.versions) recent.versions.set(id, lsn);
  return recent.versions;
}

/**
 * Whether rows the recent look-up did not find need a second one, over the pipeline's older
 * history: only when that history (which begins at `historyStartMs`, the earliest commit the
 * pipeline applied from the topic; undefined: none in the changelog) begins before the recent
 * look-up's start. A young pipeline, or one replaying its topics from their beginning during
 * their first day, has no older history, and a batch's unknown rows cost one probe, not two.
 */
export function readsOlderHistory(historyStartMs: number | undefined, recentSinceMs: number) {
  return historyStartMs !== undefined && historyStartMs < recentSinceMs;
}

/**
 * The LSN of the last change a pipeline applied of each of some rows (keyed by `rowId`); rows it
 * never applied are missing.
 */
export async function lastAppliedVersions(
  db: Knex,
  pipeline: string,
  rows: readonly { table: string; primaryKey: string }[],
): Promise<Map<string, number>> {
  return (await lookUp(db, pipeline, rows, undefined, undefined)).versions;
}

/**
 * Looks rows up in the changelog's days since `sinceMs` and in the recorded versions: the last
 * applied LSN of each found, and those found in the changelog (whose last change is there).
 */
async function lookUp(
  db: Knex,
  pipeline: string,
  rows: readonly { table: string; primaryKey: string }[],
  batch: Pick<KnowledgeScope, 'topic' | 'partition' | 'batchOffset'> | undefined,
  sinceMs: number | undefined,
): Promise<{ versions: Map<string, number>; landed: Set<string> }> {
  const versions = new Map<string, number>();
  const landed = new Set<string>();
  if (rows.length === 0) return { versions, landed };
  const statement = knownRowsStatement(pipeline, rows, batch, sinceMs);
  const found = await db.raw<{
    rows: {
      source_table: string;
      primary_key: string;
      landed_lsn: string | null;
      recorded_lsn: string | null;
    }[];
  }>(statement.sql, statement.bindings);
  for (const row of found.rows) {
    const id = rowId(row.source_table, row.primary_key);
    const lsns = [row.landed_lsn, row.recorded_lsn].filter((lsn) => lsn !== null).map(Number);
    versions.set(id, Math.max(...lsns));
    if (row.landed_lsn !== null) landed.add(id);
  }
  return { versions, landed };
}

/** The look-up's statement (`lookUp`), apart so that its plan can be examined. */
export function knownRowsStatement(
  pipeline: string,
  rows: readonly { table: string; primaryKey: string }[],
  batch: Pick<KnowledgeScope, 'topic' | 'partition' | 'batchOffset'> | undefined,
  sinceMs: number | undefined,
): { sql: string; bindings: Knex.RawBinding[] } {
  return {
    sql: KNOWN_ROWS,
    bindings: [
      rows.map((row) => row.table),
      rows.map((row) => row.primaryKey),
      pipeline,
      batch?.topic ?? null,
      batch?.topic ?? null,
      batch?.partition ?? null,
      batch?.partition ?? null,
      batch?.batchOffset.toString() ?? null,
      new Date(sinceMs ?? 0),
      pipeline,
    ],
  };
}

/**
 * The earliest source commit time the pipeline applied from any partition of a topic since it
 * reads its history from the changelog: no row's history there is older. Undefined: none.
 */
async function historyStartOf(
  db: Knex,
  pipeline: string,
  topic: string,
): Promise<number | undefined> {
  const row = await db('ops.consumer_offsets')
    .where({ group_id: pipeline, topic })
    .min<{ earliest: string | null } | undefined>('min_committed_at_ms as earliest')
    .first();
  return row?.earliest === null || row?.earliest === undefined ? undefined : Number(row.earliest);
}
