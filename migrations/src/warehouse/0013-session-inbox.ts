import type { Knex } from 'knex';

// Session windows are keyed by a field (the customer) that is not the topic's key (the row), so
// batches of every partition meet on the same session keys. Applied inside each batch's
// transaction, they made the batches of different partitions wait for each other's commit.
// A batch now queues its session contributions here, in its own transaction (exactly once, with
// its offsets), and one consumer of the pipeline at a time applies the queue in order and
// deletes what it applied, in one transaction: no batch waits on another for a session key.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE stream.session_inbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      pipeline text NOT NULL,
      -- The batch's contributions to session windows, in the batch's order.
      inputs json NOT NULL,
      -- Each metric's watermark when the batch was applied (null: none yet): the queue is
      -- judged against it, and the sessions' watermark does not pass it while it is queued.
      watermarks json NOT NULL,
      queued_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
  await knex.raw('CREATE INDEX session_inbox_by_pipeline ON stream.session_inbox (pipeline, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE stream.session_inbox');
}
