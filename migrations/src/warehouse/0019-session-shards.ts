import type { Knex } from 'knex';

// Session contributions are queued by emission shard (services/stream/src/shards.ts): a batch
// queues one row per shard its session keys hash to, and the consumer owning that shard applies
// the shard's rows. Sessions are applied by as many consumers as own shards, instead of one per
// pipeline under a lock, and every session key still has one writer. Rows queued before have
// no shard: they are applied first, whole, under the pipeline's lock, as before.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'ALTER TABLE stream.session_inbox ADD COLUMN topic text, ADD COLUMN shard integer',
  );
  await knex.raw(
    'CREATE INDEX session_inbox_by_shard ON stream.session_inbox (pipeline, topic, shard, id)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX stream.session_inbox_by_shard');
  await knex.raw('ALTER TABLE stream.session_inbox DROP COLUMN topic, DROP COLUMN shard');
}
