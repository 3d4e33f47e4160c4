import { ACCUMULATOR_SQL_TWINS, createSqlTwin } from '@tidemark/stream/windowing';
import type { Knex } from 'knex';

// The accumulator functions the stream runs inside PostgreSQL (merging partials, computing
// values) are now written once, beside their TypeScript twins in the stream's operators
// (services/stream/src/windowing/accumulator-sql.ts), and installed from there. The same SQL as
// migration 0002 wrote by hand; a later change to a twin comes with a migration like this one.

export async function up(knex: Knex): Promise<void> {
  for (const twin of ACCUMULATOR_SQL_TWINS) await knex.raw(createSqlTwin(twin));
}

export async function down(): Promise<void> {
  // Nothing to restore: the functions keep the definitions they had before, text aside.
}
