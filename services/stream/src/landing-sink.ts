import type { Knex } from 'knex';
import type { DeadLetter, LandedChange } from './landing';

/** What one batch wrote: rows new to the warehouse (redeliveries are not counted). */
export interface LandingResult {
  landed: number;
  deadLettered: number;
}

// The whole batch travels as one JSON parameter: one statement to parse and plan, however many
// rows, instead of fourteen bind parameters per row.
const LAND_CHANGES = `
  INSERT INTO raw.change_events (source_table, op, primary_key, lsn, tx_id, committed_at,
      captured_at, before, after, contract_version, kafka_topic, kafka_partition, kafka_offset,
      kafka_timestamp)
    SELECT source_table, op, primary_key, lsn, tx_id, committed_at, captured_at, before, after,
      contract_version, kafka_topic, kafka_partition, kafka_offset, kafka_timestamp
    FROM jsonb_to_recordset(?::jsonb) AS landed(source_table text, op text, primary_key jsonb,
      lsn bigint, tx_id bigint, committed_at timestamptz, captured_at timestamptz, before jsonb,
      after jsonb, contract_version integer, kafka_topic text, kafka_partition integer,
      kafka_offset bigint, kafka_timestamp timestamptz)
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
