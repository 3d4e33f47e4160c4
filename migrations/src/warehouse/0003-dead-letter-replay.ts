import type { Knex } from 'knex';

// What `tidemark dlq` needs on ops.dead_letters: every validation issue of a dead letter, and
// the outcome of replaying it. A row with `replayed_at` set has been re-injected and is never
// replayed again; a row still failing counts its attempts and keeps the last reason.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').alterTable('dead_letters', (table) => {
    table.jsonb('issues');
    table.timestamp('replayed_at', { useTz: true });
    table.text('replay_topic');
    table.integer('replay_attempts').notNullable().defaultTo(0);
    table.text('last_replay_error');
    table.index(['received_at'], 'dead_letters_received_at');
  });
  // Rows dead-lettered before this migration kept only their first issue.
  await knex.raw(`UPDATE ops.dead_letters
    SET issues = jsonb_build_array(jsonb_build_object('code', code, 'path', path, 'message', message))
    WHERE issues IS NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').alterTable('dead_letters', (table) => {
    table.dropIndex(['received_at'], 'dead_letters_received_at');
    table.dropColumns(
      'issues',
      'replayed_at',
      'replay_topic',
      'replay_attempts',
      'last_replay_error',
    );
  });
}
