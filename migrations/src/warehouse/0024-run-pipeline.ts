import type { Knex } from 'knex';

// Each consolidation run records the stream pipeline it judged completeness by and reconciled
// against (`tidemark consolidate|backfill --pipeline`, or the worker's own), so reports can
// say, and filter, which provisional values a run was compared with. Runs before it: null.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('final').alterTable('runs', (table) => {
    table.text('pipeline');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('final').alterTable('runs', (table) => {
    table.dropColumn('pipeline');
  });
}
