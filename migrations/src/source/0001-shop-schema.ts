import type { Knex } from 'knex';

// The demo application's schema. Runs as tidemark_app, the owner of the `source` database.
// Constraints stay those an application would really have: contract rules (currency format,
// known statuses) are the event contract's to enforce, so bad rows can reach the DLQ.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE SCHEMA shop');
  await knex.schema.withSchema('shop').createTable('orders', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.text('customer_id').notNullable();
    table.bigInteger('amount_minor').notNullable();
    table.text('currency').notNullable();
    table.text('status').notNullable().defaultTo('pending');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['created_at']);
    table.index(['customer_id']);
  });
  await knex.schema.withSchema('shop').createTable('payments', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table
      .uuid('order_id')
      .notNullable()
      .references('id')
      .inTable('shop.orders')
      .onDelete('CASCADE');
    table.bigInteger('amount_minor').notNullable();
    table.text('currency').notNullable();
    table.text('method').notNullable();
    table.text('status').notNullable();
    // Settlement details arrive later, from the payment gateway.
    table.decimal('fee', 12, 4);
    table.date('settled_on');
    table.jsonb('gateway_response');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['order_id']);
    table.index(['created_at']);
  });
  // Full row images in the WAL, so every update and delete carries its `before`.
  await knex.raw('ALTER TABLE shop.orders REPLICA IDENTITY FULL');
  await knex.raw('ALTER TABLE shop.payments REPLICA IDENTITY FULL');
  // The publication Debezium streams from (pgoutput), limited to the captured tables.
  await knex.raw('CREATE PUBLICATION tidemark_shop FOR TABLE shop.orders, shop.payments');
  // Debezium snapshots the captured tables; the platform reads them for quality checks.
  await knex.raw('GRANT USAGE ON SCHEMA shop TO tidemark_debezium, tidemark_platform');
  await knex.raw(
    'GRANT SELECT ON shop.orders, shop.payments TO tidemark_debezium, tidemark_platform',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP PUBLICATION IF EXISTS tidemark_shop');
  await knex.raw('DROP SCHEMA shop CASCADE');
}
