import type { Knex } from 'knex';

/**
 * Settings of every stream transaction (a partition's batch, an emission), in one statement:
 *
 * - No wait for the WAL flush: a commit lost in a crash of PostgreSQL takes its stored offsets
 *   (or its claim on queued work) with it, and the work is done again.
 * - Index probes, never sequential scans, for the stream's keyed lookups: in a pipeline's first
 *   minutes, or after its tables were emptied and vacuumed, the statistics say they are tiny,
 *   and the planner then scans a table growing by thousands of rows per batch once for every
 *   key (the bench measured the row-versions statement go from a share of the warehouse's time
 *   to 270 % of it, and 687 µs of PostgreSQL CPU per change). Tables without a fitting index
 *   are still scanned.
 */
export async function configureStreamTransaction(trx: Knex.Transaction): Promise<void> {
  await trx.raw('SET LOCAL synchronous_commit = off; SET LOCAL enable_seqscan = off');
}
