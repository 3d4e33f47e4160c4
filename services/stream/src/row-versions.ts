import type { Row } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { compareTuples } from './sql-batches';
import { rowId, type KeyedChange, type PriorImages } from './windowing/plan';

// The recorded versions (stream.row_versions): the last applied LSN of the rows of batches whose
// changes the changelog held already, under offsets that may not be the pipeline's
// (`row-knowledge.ts` reads them beside the changelog).

/**
 * Records each row's version as the batch's largest LSN of the row, unless a later one is
 * recorded. Rows are written in key order, as every consumer does.
 */
export async function recordRowVersions(
  trx: Knex.Transaction,
  pipeline: string,
  changes: readonly KeyedChange[],
): Promise<void> {
  const rows = new Map<string, { table: string; primaryKey: string; lsn: number }>();
  for (const { table, primaryKey, event } of changes) {
    const lsn = event.source.lsn;
    if (event.op === 't' || lsn === null) continue;
    const id = rowId(table, primaryKey);
    const seen = rows.get(id);
    if (!seen) rows.set(id, { table, primaryKey, lsn });
    else if (lsn > seen.lsn) seen.lsn = lsn;
  }
  if (rows.size === 0) return;
  const wanted = [...rows.values()].sort((a, b) =>
    compareTuples([a.table, a.primaryKey], [b.table, b.primaryKey]),
  );
  await trx.raw(
    `INSERT INTO stream.row_versions (pipeline, source_table, primary_key, lsn)
       SELECT ?, source_table, primary_key, lsn
         FROM unnest(?::text[], ?::text[], ?::bigint[]) AS w(source_table, primary_key, lsn)
     ON CONFLICT (pipeline, source_table, primary_key)
       DO UPDATE SET lsn = GREATEST(stream.row_versions.lsn, excluded.lsn)`,
    [
      pipeline,
      wanted.map((row) => row.table),
      wanted.map((row) => row.primaryKey),
      wanted.map((row) => row.lsn),
    ],
  );
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
