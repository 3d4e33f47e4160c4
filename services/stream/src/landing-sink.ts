import type { Knex } from 'knex';
import type { DeadLetter, LandedChange } from './landing';

/** What one batch wrote: rows new to the warehouse (redeliveries are not counted). */
export interface LandingResult {
  landed: number;
  deadLettered: number;
}

/**
 * Writes a batch's changes and dead letters idempotently, inside the caller's transaction (or
 * in one of its own when given the database).
 */
export async function writeLandingBatch(
  db: Knex | Knex.Transaction,
  changes: readonly LandedChange[],
  deadLetters: readonly DeadLetter[],
): Promise<LandingResult> {
  const write = async (trx: Knex.Transaction) => {
    const landed =
      changes.length === 0
        ? []
        : await trx('raw.change_events')
            .insert(changes)
            .onConflict(['source_table', 'primary_key', 'lsn', 'committed_at'])
            .ignore()
            .returning('id');
    const dead =
      deadLetters.length === 0
        ? []
        : await trx('ops.dead_letters')
            .insert(deadLetters)
            .onConflict(['kafka_topic', 'kafka_partition', 'kafka_offset'])
            .ignore()
            .returning('id');
    return { landed: landed.length, deadLettered: dead.length };
  };
  return 'commit' in db && db.isTransaction ? write(db) : db.transaction(write);
}
