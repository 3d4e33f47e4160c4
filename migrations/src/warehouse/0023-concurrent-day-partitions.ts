import type { Knex } from 'knex';

// On a new day, every partition's first batch asks for the changelog's new day partition at
// once. raw.ensure_change_event_partitions looked the partition up again after taking its
// advisory lock, but a backend does not read other sessions' catalog changes while it waits on an
// advisory lock, so the waiters still did not see the partition the first one had created and
// failed with "relation … already exists" (their batches were retried). A partition another
// transaction created first is now what the creation's own error says it is: done.

const DAY_PARTITIONS = (onCreated: string) => `
  CREATE OR REPLACE FUNCTION raw.ensure_change_event_partitions(days date[]) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  DECLARE
    day date;
    partition text;
  BEGIN
    FOREACH day IN ARRAY days LOOP
      partition := 'change_events_' || to_char(day, 'YYYYMMDD');
      CONTINUE WHEN to_regclass('raw.' || partition) IS NOT NULL;
      PERFORM pg_advisory_xact_lock(hashtext('raw.change_events partitions'));
      CONTINUE WHEN to_regclass('raw.' || partition) IS NOT NULL;
      ${onCreated}
    END LOOP;
  END
  $$`;

const CREATE = `EXECUTE format(
        'CREATE TABLE raw.%I PARTITION OF raw.change_events FOR VALUES FROM (%L) TO (%L)',
        partition,
        (day::timestamp AT TIME ZONE 'UTC'),
        ((day + 1)::timestamp AT TIME ZONE 'UTC'));`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    DAY_PARTITIONS(`BEGIN
        ${CREATE}
      EXCEPTION WHEN duplicate_table THEN
        NULL; -- created by a concurrent transaction since this one looked
      END;`),
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(DAY_PARTITIONS(CREATE));
}
