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
 * - No bitmap scans either. A day's changelog partition has no statistics until autovacuum
 *   first analyses it, minutes into the day, and the planner then combines a row's hash-index
 *   probe with a bitmap of the `committed_at` index: every change of the day read for every key
 *   looked up (a fresh stack's first bench: 6.5 s for one batch's 300 keys, against 6 ms with the
 *   probe alone, and 560 µs of PostgreSQL CPU per change). Every stream statement is a probe by
 *   key, for which a plain index scan is the right plan.
 * - No JIT: it pays for scans of millions of rows, not for a batch's probes; and since disabled
 *   scans cost 10^10 in the planner, a plan that must still use one would cross the JIT's cost
 *   threshold and compile for hundreds of milliseconds.
 */
export async function configureStreamTransaction(trx: Knex.Transaction): Promise<void> {
  await trx.raw(
    'SET LOCAL synchronous_commit = off; SET LOCAL enable_seqscan = off; ' +
      'SET LOCAL enable_bitmapscan = off; SET LOCAL jit = off',
  );
}
