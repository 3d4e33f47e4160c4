import type { Knex } from 'knex';

// Since when a stream pipeline has observed the changelog. A pipeline started at the topics'
// end (a first deploy, a reset) never saw what came before; the reconciliation leaves the
// windows that started before then out, instead of calling their differences unexplained.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('stream').createTable('pipelines', (table) => {
    table.text('pipeline').primary();
    // NULL: from the beginning of the topics.
    table.timestamp('observed_from', { useTz: true });
    table.timestamp('first_started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('stream').dropTable('pipelines');
}
