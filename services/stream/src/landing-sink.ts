import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CHANGELOG_COPY_COLUMNS, changelogCopyChunks } from './changelog-copy';
import type { DeadLetter, LandedChange } from './landing';

/** What one batch wrote: rows new to the warehouse (redeliveries are not counted). */
export interface LandingResult {
  landed: number;
  deadLettered: number;
  /**
   * Whether some of the changes were in the changelog already (Debezium sent them again, or
   * another pipeline landed them first): they stay there under their first offsets.
   */
  alreadyLanded: boolean;
}

const COPY_CHANGES = `COPY raw.change_events (${CHANGELOG_COPY_COLUMNS.join(', ')}) FROM STDIN`;

// When a change is already in the changelog, the whole batch travels again as one JSON
// parameter and each row is inserted unless it is there: one statement however many rows.
const LAND_NEW_CHANGES = `
  INSERT INTO raw.change_events (source_table, op, primary_key, lsn, tx_id, committed_at,
      captured_at, before, after, contract_version, kafka_topic, kafka_partition, kafka_offset,
      kafka_timestamp)
    SELECT c->>'source_table', c->>'op', c->'primary_key', (c->>'lsn')::bigint,
      (c->>'tx_id')::bigint, (c->>'committed_at')::timestamptz, (c->>'captured_at')::timestamptz,
      nullif(c->'before', 'null'), nullif(c->'after', 'null'), (c->>'contract_version')::integer,
      c->>'kafka_topic', (c->>'kafka_partition')::integer, (c->>'kafka_offset')::bigint,
      (c->>'kafka_timestamp')::timestamptz
    FROM jsonb_array_elements(?::jsonb) AS landed(c)
  ON CONFLICT (lsn, source_table, primary_key, committed_at) DO NOTHING`;

/** PostgreSQL's unique_violation: a change of the batch is already in the changelog. */
const UNIQUE_VIOLATION = '23505';

/**
 * Writes a batch's changes and dead letters idempotently, inside the caller's transaction (or
 * in one of its own when given the database). The changelog's daily partitions must exist.
 */
export async function writeLandingBatch(
  db: Knex | Knex.Transaction,
  changes: readonly LandedChange[],
  deadLetters: readonly DeadLetter[],
): Promise<LandingResult> {
  const write = async (trx: Knex.Transaction) => {
    const { landed, alreadyLanded } =
      changes.length === 0 ? { landed: 0, alreadyLanded: false } : await landChanges(trx, changes);
    const deadLettered = deadLetters.length === 0 ? 0 : await insertDeadLetters(trx, deadLetters);
    return { landed, deadLettered, alreadyLanded };
  };
  return 'commit' in db && db.isTransaction ? write(db) : db.transaction(write);
}

/**
 * Lands changes with `COPY`, the cheapest write PostgreSQL has. A pipeline's stored offsets keep
 * it from landing a change twice, so the copy almost always succeeds; a change already there
 * (Debezium re-sent it after its own restart, or another pipeline beside this one landed it
 * first) fails the copy on the changelog's unique key, and the batch is then inserted row by row
 * unless already landed. A savepoint keeps that failure from aborting the caller's transaction.
 */
async function landChanges(
  trx: Knex.Transaction,
  changes: readonly LandedChange[],
): Promise<{ landed: number; alreadyLanded: boolean }> {
  // Inside a transaction, knex hands out the transaction's own connection.
  const connection = (await trx.client.acquireConnection()) as PoolClient;
  await trx.raw('SAVEPOINT changelog_copy');
  try {
    const copy = connection.query(copyFrom(COPY_CHANGES));
    await pipeline(Readable.from(changelogCopyChunks(changes)), copy);
    await trx.raw('RELEASE SAVEPOINT changelog_copy');
    return { landed: copy.rowCount, alreadyLanded: false };
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
    await trx.raw('ROLLBACK TO SAVEPOINT changelog_copy');
    const inserted = (await trx.raw(LAND_NEW_CHANGES, [JSON.stringify(changes)])) as {
      rowCount: number;
    };
    return { landed: inserted.rowCount, alreadyLanded: true };
  }
}

/**
 * Inserts dead letters in one statement of eight arrays, whatever their number (a flood of
 * poison makes thousands a batch), skipping those already stored; returns how many were new.
 */
async function insertDeadLetters(
  trx: Knex.Transaction,
  deadLetters: readonly DeadLetter[],
): Promise<number> {
  const column = <K extends keyof DeadLetter>(key: K) => deadLetters.map((letter) => letter[key]);
  const inserted = await trx.raw<{ rowCount: number }>(
    `INSERT INTO ops.dead_letters
       (kafka_topic, kafka_partition, kafka_offset, code, path, message, issues, raw)
     SELECT * FROM unnest(?::text[], ?::integer[], ?::bigint[], ?::text[], ?::text[], ?::text[],
                          ?::jsonb[], ?::bytea[])
     ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING`,
    [
      column('kafka_topic'),
      column('kafka_partition'),
      column('kafka_offset'),
      column('code'),
      column('path'),
      column('message'),
      column('issues'),
      column('raw'),
    ],
  );
  return inserted.rowCount;
}
