import type { Knex } from 'knex';

// Orders learn where they were placed: a nullable column, so existing rows and writers that do
// not know it stay valid (orders contract v2, compatible BACKWARD with v1).

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('shop').alterTable('orders', (table) => {
    table.text('channel');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('shop').alterTable('orders', (table) => {
    table.dropColumn('channel');
  });
}
