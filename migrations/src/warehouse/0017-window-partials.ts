import type { Knex } from 'knex';

// Stream v2 (docs/stream-design.md): each partition's batches keep their own partial
// accumulators of the fixed windows they touch, written by that partition's consumer alone, and
// the window's provisional value is their merge, written by the one consumer that emits the
// window's shard. No row is written by two partitions' transactions any more.

const NEUTRAL = `'{"rows": 0, "measured": 0, "sum": 0, "values": {}}'`;

export async function up(knex: Knex): Promise<void> {
  // One partition's part of a window: only the consumer owning (topic, partition) writes it.
  await knex.raw(`
    CREATE TABLE stream.window_partials (
      pipeline text NOT NULL,
      metric text NOT NULL,
      window_start timestamptz NOT NULL,
      window_end timestamptz NOT NULL,
      group_key text NOT NULL,
      topic text NOT NULL,
      partition integer NOT NULL,
      key_values jsonb NOT NULL,
      accumulator jsonb NOT NULL,
      last_committed_at timestamptz NOT NULL,
      PRIMARY KEY (pipeline, metric, window_start, window_end, group_key, topic, partition)
    ) WITH (fillfactor = 70)`);
  // Windows whose partials changed and are not emitted yet: a batch inserts, the emitter of the
  // shard deletes what it emits. Append and delete only: no row is updated by two transactions.
  await knex.raw(`
    CREATE TABLE stream.dirty_windows (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      pipeline text NOT NULL,
      metric text NOT NULL,
      shard integer NOT NULL,
      window_start timestamptz NOT NULL,
      window_end timestamptz NOT NULL,
      group_key text NOT NULL
    )`);
  await knex.raw('CREATE INDEX ON stream.dirty_windows (pipeline, metric, shard, id)');
  await knex.raw(`
    CREATE AGGREGATE stream.merged_accumulator(jsonb) (
      SFUNC = stream.merge_accumulator, STYPE = jsonb, INITCOND = ${NEUTRAL})`);
  // What running pipelines accumulated before: one partial per window of a fixed-window metric,
  // owned by no partition (-1), merged into every later emission of the window.
  await knex.raw(`
    INSERT INTO stream.window_partials (pipeline, metric, window_start, window_end, group_key,
        topic, partition, key_values, accumulator, last_committed_at)
      SELECT pipeline, metric, window_start, window_end, group_key, '', -1, key_values,
             accumulator, COALESCE(last_committed_at, updated_at)
        FROM provisional.metric_values v
       WHERE accumulator IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM stream.session_state s
                          WHERE s.pipeline = v.pipeline AND s.metric = v.metric)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP AGGREGATE stream.merged_accumulator(jsonb)');
  await knex.raw('DROP TABLE stream.dirty_windows');
  await knex.raw('DROP TABLE stream.window_partials');
}
