import type { Knex } from 'knex';
import type { DeadLetter, LandedChange } from './landing';

/** What one batch wrote: rows new to the warehouse (redeliveries are not counted). */
export interface LandingResult {
  landed: number;
  deadLettered: number;
}

// The whole batch travels as one JSON parameter: one statement to parse and plan, however many
// rows, instead of fourteen bind parameters per row. Its fields are read with `->` from the
// parsed document: `before` and `after` stay the jsonb they were parsed into, where
// jsonb_to_recordset turned each back into text and parsed it again (a quarter more time).
const LAND_CHANGES = `
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
    const landed =
      changes.length === 0
        ? 0
        : ((await trx.raw(LAND_CHANGES, [JSON.stringify(changes)])) as { rowCount: number })
            .rowCount;
    const dead =
      deadLetters.length === 0
        ? []
        : await trx('ops.dead_letters')
            .insert(deadLetters)
            .onConflict(['kafka_topic', 'kafka_partition', 'kafka_offset'])
            .ignore()
            .returning('id');
    return { landed, deadLettered: dead.length };
  };
  return 'commit' in db && db.isTransaction ? write(db) : db.transaction(write);
}
