import type { Knex } from 'knex';

// Debezium's signal table (`signal.data.collection`): a row asking for an incremental snapshot
// makes the connector re-read a captured table's rows in chunks, as reads ('r'), while changes go
// on streaming (`tidemark connector snapshot <table>`): how rows that were in a table before it
// was captured reach the changelog. Debezium writes the snapshot's window markers into the same
// table, so it may insert; it must be in the publication for the connector to see the signals.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('tidemark_cdc').createTable('debezium_signal', (table) => {
    table.string('id', 64).primary();
    table.string('type', 32).notNullable();
    table.string('data', 2048);
  });
  await knex.raw('GRANT SELECT, INSERT ON tidemark_cdc.debezium_signal TO tidemark_debezium');
  await knex.raw('ALTER PUBLICATION tidemark_shop ADD TABLE tidemark_cdc.debezium_signal');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER PUBLICATION tidemark_shop DROP TABLE tidemark_cdc.debezium_signal');
  await knex.schema.withSchema('tidemark_cdc').dropTable('debezium_signal');
}
