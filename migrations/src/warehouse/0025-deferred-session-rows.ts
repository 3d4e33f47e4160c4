import type { Knex } from 'knex';

// Sessions of metrics emitted on window close get their provisional row when due, not on every
// contribution (docs/stream-design.md, "Sessions: rows when due"). Each key's state records the
// emission shard its applier owns (`shard`), up to where its sessions have rows
// (`rows_until_ms`; the largest bigint: every session has one, as all state stored before this
// migration; the smallest: none), and when its earliest session without a row is due, rounded
// down to the minute (`due_from_ms`; null: none), which the shard's tick reads through a partial
// index. Rounded, the indexed value rarely changes when a contribution extends a session, so
// most updates stay heap-only.
//
// `rows_until_ms` has no default: a stream of a version before this one, which would write rows
// for every session beside a newer one that does not know of them, fails to write session state
// (its insert leaves the column null) instead of publishing sessions no one maintains. A
// pipeline's consumers are upgraded together (docs/streaming.md).

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE stream.session_state
      ADD COLUMN shard integer,
      ADD COLUMN rows_until_ms bigint NOT NULL DEFAULT 9223372036854775807,
      ADD COLUMN due_from_ms bigint`);
  await knex.raw('ALTER TABLE stream.session_state ALTER COLUMN rows_until_ms DROP DEFAULT');
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
