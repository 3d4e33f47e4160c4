import type { Knex } from 'knex';

// What a consolidation needs to stay proportional to the day it computes:
// - every state rebuild asks for the table's last truncate up to the cutoff; without an index
//   that question scans every partition backwards, and truncates are rare, so a partial index
//   answers it from a handful of entries;
// - the quality gate attributes unreplayed dead letters to the day of their event time, reading
//   their raw bytes: a dead letter that is not JSON (a decode failure) or whose event time does
//   not parse must count as unattributable, not fail the gate's query.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `CREATE INDEX change_events_truncates ON raw.change_events (source_table, committed_at)
      WHERE op = 't'`,
  );
  await knex.raw(`
    CREATE FUNCTION ops.try_jsonb(bytes bytea) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    BEGIN
      RETURN convert_from(bytes, 'UTF8')::jsonb;
    EXCEPTION WHEN others THEN
      RETURN NULL;
    END
    $$`);
  await knex.raw(`
    CREATE FUNCTION ops.try_timestamptz(value text) RETURNS timestamptz
    LANGUAGE plpgsql STABLE STRICT AS $$
    BEGIN
      RETURN value::timestamptz;
    EXCEPTION WHEN others THEN
      RETURN NULL;
    END
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION ops.try_timestamptz(text)');
  await knex.raw('DROP FUNCTION ops.try_jsonb(bytea)');
  await knex.raw('DROP INDEX raw.change_events_truncates');
}
