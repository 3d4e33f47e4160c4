import type { Knex } from 'knex';

// Sessions of metrics emitted on window close get their provisional row when due, not on every
// contribution (docs/stream-design.md, "Sessions: rows when due"). Each key's state records the
// emission shard its applier owns (`shard`), up to where its sessions have rows
// (`rows_until_ms`; null: every session has one, as all state stored before this migration), and
// when its earliest session without a row is due, rounded down to the minute (`due_from_ms`;
// null: none), which the shard's tick reads through a partial index. Rounded, the indexed value
// rarely changes when a contribution extends a session, so most updates stay heap-only.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE stream.session_state
      ADD COLUMN shard integer,
      ADD COLUMN rows_until_ms bigint,
      ADD COLUMN due_from_ms bigint`);
  await knex.raw(`
    CREATE INDEX session_state_due ON stream.session_state (pipeline, metric, shard, due_from_ms)
     WHERE due_from_ms IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX stream.session_state_due');
  await knex.raw(`
    ALTER TABLE stream.session_state
      DROP COLUMN shard, DROP COLUMN rows_until_ms, DROP COLUMN due_from_ms`);
}
