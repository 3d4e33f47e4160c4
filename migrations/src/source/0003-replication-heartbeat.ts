import type { Knex } from 'knex';

// A table Debezium writes to on every heartbeat (heartbeat.action.query). Logical replication
// slots are per database but WAL is per server: while the shop is quiet and other databases on
// the same server (the warehouse, by default) write a lot, a slot that sees no change of its own
// database never advances, holds WAL back, and is invalidated past max_slot_wal_keep_size. A
// heartbeat row in the publication gives the connector a change to confirm every few seconds.
// Debezium filters it out (it is not in table.include.list), so no topic carries it.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE SCHEMA tidemark_cdc');
  await knex.schema.withSchema('tidemark_cdc').createTable('heartbeat', (table) => {
    table.smallint('id').primary();
    table.timestamp('beat_at', { useTz: true }).notNullable();
  });
  await knex.raw('GRANT USAGE ON SCHEMA tidemark_cdc TO tidemark_debezium');
  await knex.raw('GRANT SELECT, INSERT, UPDATE ON tidemark_cdc.heartbeat TO tidemark_debezium');
  await knex.raw('ALTER PUBLICATION tidemark_shop ADD TABLE tidemark_cdc.heartbeat');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER PUBLICATION tidemark_shop DROP TABLE tidemark_cdc.heartbeat');
  await knex.raw('DROP SCHEMA tidemark_cdc CASCADE');
}
