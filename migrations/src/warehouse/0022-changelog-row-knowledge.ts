import type { Knex } from 'knex';

// What a pipeline has applied of each row is read from the raw changelog (every change it
// applied was landed in the same transaction, under its topic, partition and offset), not kept
// per row: each partition's stored position gains where the pipeline began reading it
// (`first_offset`: the changelog's rows of that partition from there on are what it read) and
// the latest change it applied, by source commit time then LSN (`max_committed_at_ms`,
// `max_committed_lsn`: an insert sorting after it cannot have been applied before, so it needs
// no look-up), and the earliest source commit time it applied (`min_committed_at_ms`: no
// change it applied is older, so a look-up reads no older day of the changelog). stream.row_versions stays for the
// changes the changelog holds under another offset (a batch whose landing found them there).
//
// Existing positions: what their pipeline applied so far is in stream.row_versions, so they
// begin at their next offset, and their mark is an upper bound of any commit time the stream
// accepted (the plausible span's default day ahead of now): inserts are looked up until the
// source's commits pass it.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE ops.consumer_offsets
      ADD COLUMN first_offset bigint,
      ADD COLUMN max_committed_at_ms bigint,
      ADD COLUMN max_committed_lsn bigint,
      ADD COLUMN min_committed_at_ms bigint`);
  await knex.raw(`
    UPDATE ops.consumer_offsets
       SET first_offset = next_offset,
           max_committed_at_ms = floor(extract(epoch FROM now() + interval '1 day') * 1000)::bigint`);
  await knex.raw('ALTER TABLE ops.consumer_offsets ALTER COLUMN first_offset SET NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE ops.consumer_offsets
      DROP COLUMN first_offset,
      DROP COLUMN max_committed_at_ms,
      DROP COLUMN max_committed_lsn,
      DROP COLUMN min_committed_at_ms`);
}
