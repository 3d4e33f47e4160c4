import type { Knex } from 'knex';

// Each partition's highest accepted LSN and the source commit time it came with: a change whose
// LSN is further ahead than the source's WAL could have grown since is a dead letter (IMPLAUSIBLE),
// not a row version that would make every later real change of its row look like a duplicate.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE ops.consumer_offsets
      ADD COLUMN max_lsn bigint,
      ADD COLUMN max_lsn_committed_at_ms bigint`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE ops.consumer_offsets DROP COLUMN max_lsn, DROP COLUMN max_lsn_committed_at_ms`);
}
