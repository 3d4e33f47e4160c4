import type { Knex } from 'knex';

// What backfills and the reconciliation's dead-letter attribution need:
// - a run may consolidate some metrics only (a backfill of one metric leaves the others alone);
// - a run started by a backfill names it, so a backfill's runs and changed values can be listed;
// - a dead letter replayed into the stream keeps the identity of the change it carried (table and
//   LSN), so a late contribution it caused is attributed to the dead letter, not to lateness.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('final').alterTable('runs', (table) => {
    // NULL: every metric.
    table.specificType('metrics', 'text[]');
    table.text('backfill_id');
    table.index(['backfill_id']);
  });
  await knex.schema.withSchema('ops').alterTable('dead_letters', (table) => {
    table.text('replay_source_table');
    table.bigInteger('replay_lsn');
    table.index(['replay_source_table', 'replay_lsn'], 'dead_letters_replayed_change');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').alterTable('dead_letters', (table) => {
    table.dropIndex(['replay_source_table', 'replay_lsn'], 'dead_letters_replayed_change');
    table.dropColumns('replay_source_table', 'replay_lsn');
  });
  await knex.schema.withSchema('final').alterTable('runs', (table) => {
    table.dropIndex(['backfill_id']);
    table.dropColumns('metrics', 'backfill_id');
  });
}
