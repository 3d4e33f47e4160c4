import type { Knex } from 'knex';

// Each provisional row records its emission shard (services/stream/src/shards.ts), so that each
// consumer's tick emits pending values and closes windows of its own shards only: no row is
// updated by two consumers' ticks. Rows from before have none; the owner of shard 0 takes them.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE provisional.metric_values ADD COLUMN shard integer');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE provisional.metric_values DROP COLUMN shard');
}
