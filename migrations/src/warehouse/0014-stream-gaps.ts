import type { Knex } from 'knex';

// Kafka deletes old records (retention, or by hand). A pipeline stopped for longer than the
// retention comes back to a stored offset Kafka no longer has: the changes in between are gone
// and cannot be read. The pipeline records each such gap here, exactly, and goes on from the
// earliest offset Kafka has; the changes it never saw are not in the raw changelog either, so a
// backfill of the days concerned is how its numbers are made whole.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE ops.stream_gaps (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      pipeline text NOT NULL,
      topic text NOT NULL,
      partition integer NOT NULL,
      -- The offsets [missing_from, missing_until) the pipeline never read.
      missing_from bigint NOT NULL,
      missing_until bigint NOT NULL CHECK (missing_until > missing_from),
      -- The event time the partition had reached before the gap (null: none yet).
      max_event_time_ms bigint,
      detected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      UNIQUE (pipeline, topic, partition, missing_from)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE ops.stream_gaps');
}
