import type { Knex } from 'knex';

// The first warehouse schema. Runs as tidemark_platform, the owner of the `warehouse` database.
const SCHEMAS = ['raw', 'ops', 'provisional', 'final', 'audit', 'quality'] as const;

export async function up(knex: Knex): Promise<void> {
  for (const schema of SCHEMAS) await knex.raw('CREATE SCHEMA ??', [schema]);

  // Every valid change event, append-only; a redelivered change (same table, key and LSN) is
  // recognised by the unique key and not landed twice.
  await knex.schema.withSchema('raw').createTable('change_events', (table) => {
    table.bigIncrements('id');
    table.text('source_table').notNullable();
    table.text('op').notNullable();
    table.jsonb('primary_key').notNullable();
    table.bigInteger('lsn').notNullable();
    table.bigInteger('tx_id');
    table.timestamp('committed_at', { useTz: true }).notNullable();
    table.timestamp('captured_at', { useTz: true }).notNullable();
    table.jsonb('before');
    table.jsonb('after');
    table.integer('contract_version');
    table.text('kafka_topic').notNullable();
    table.integer('kafka_partition').notNullable();
    table.bigInteger('kafka_offset').notNullable();
    table.timestamp('kafka_timestamp', { useTz: true }).notNullable();
    table
      .timestamp('landed_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.raw('clock_timestamp()'));
    table.unique(['source_table', 'primary_key', 'lsn']);
    table.index(['committed_at']);
  });

  // Messages that could not be decoded or broke their contract, with the raw bytes kept.
  await knex.schema.withSchema('ops').createTable('dead_letters', (table) => {
    table.bigIncrements('id');
    table.text('kafka_topic').notNullable();
    table.integer('kafka_partition').notNullable();
    table.bigInteger('kafka_offset').notNullable();
    table.text('code').notNullable();
    table.text('path').notNullable();
    table.text('message').notNullable();
    table.binary('raw');
    table
      .timestamp('received_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.raw('clock_timestamp()'));
    table.unique(['kafka_topic', 'kafka_partition', 'kafka_offset']);
  });

  // The next offset to read per consumer group and partition, written in the same transaction
  // as what the consumer derived from the messages before it.
  await knex.schema.withSchema('ops').createTable('consumer_offsets', (table) => {
    table.text('group_id').notNullable();
    table.text('topic').notNullable();
    table.integer('partition').notNullable();
    table.bigInteger('next_offset').notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['group_id', 'topic', 'partition']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const schema of [...SCHEMAS].reverse()) await knex.raw('DROP SCHEMA ?? CASCADE', [schema]);
}
