import type { Row } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { compareTuples } from './sql-batches';
import { rowId, type KeyedChange, type PriorImages } from './windowing/plan';

// Each row's last applied LSN (stream.row_versions): what tells a redelivery from a new change,
// whether the pipeline has seen a row at all, and where a snapshot read finds the row's last
// applied image (docs/stream-design.md, "Dedup").

/**
 * Each row's last applied LSN before this batch, for the rows of a batch, and in the same
 * statement its advance to the batch's largest LSN of the row. That is what the plan stores for
 * it whatever it applies (an LSN it does not apply is one at or below the stored one), so the
 * probe and the upsert are one round trip. Rows are written in key order, as every consumer
 * does, and the probe reads the versions as they were before the statement (one snapshot).
 */
export async function advanceRowVersions(
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
export async function loadPriorImages(
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
