import type { Knex } from 'knex';

// The streaming layer's tables. Everything a stream pipeline (one Kafka consumer group) derives
// is keyed by `pipeline`, so a second pipeline (a new version run side by side, or a test) never
// touches the first one's numbers. A batch's effects and its offsets commit in one transaction.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE SCHEMA stream');

  // Merges two accumulators (rows, measured, sum and the multiset of values), all additive.
  await knex.raw(`
    CREATE FUNCTION stream.merge_accumulator(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT jsonb_build_object(
        'rows', (a->>'rows')::numeric + (b->>'rows')::numeric,
        'measured', (a->>'measured')::numeric + (b->>'measured')::numeric,
        'sum', (a->>'sum')::numeric + (b->>'sum')::numeric,
        'values', COALESCE((
          SELECT jsonb_object_agg(k, n) FROM (
            SELECT k, sum(n) AS n FROM (
              SELECT key AS k, value::numeric AS n FROM jsonb_each_text(a->'values')
              UNION ALL
              SELECT key, value::numeric FROM jsonb_each_text(b->'values')
            ) merged GROUP BY k HAVING sum(n) <> 0
          ) kept), '{}'::jsonb))
    $$`);

  // The value of an accumulator for an aggregate function, with SQL's null semantics.
  await knex.raw(`
    CREATE FUNCTION stream.accumulator_value(fn text, acc jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE
        WHEN fn = 'count' THEN (acc->>'rows')::numeric
        WHEN (acc->>'measured')::numeric <= 0 THEN NULL
        WHEN fn = 'sum' THEN (acc->>'sum')::numeric
        WHEN fn = 'avg' THEN (acc->>'sum')::numeric / (acc->>'measured')::numeric
        WHEN fn = 'count_distinct' THEN
          (SELECT count(*) FROM jsonb_each_text(acc->'values') WHERE value::numeric > 0)
        WHEN fn = 'min' THEN
          (SELECT min(key::numeric) FROM jsonb_each_text(acc->'values') WHERE value::numeric > 0)
        WHEN fn = 'max' THEN
          (SELECT max(key::numeric) FROM jsonb_each_text(acc->'values') WHERE value::numeric > 0)
      END
    $$`);

  // Provisional values per (metric, window, key): the accumulator is always current; `value` is
  // what was last emitted under the metric's emit policy, `revision` counts emissions.
  await knex.schema.withSchema('provisional').createTable('metric_values', (table) => {
    table.text('pipeline').notNullable();
    table.text('metric').notNullable();
    table.timestamp('window_start', { useTz: true }).notNullable();
    table.timestamp('window_end', { useTz: true }).notNullable();
    table.text('group_key').notNullable();
    table.jsonb('key_values').notNullable();
    table.jsonb('accumulator').notNullable();
    table.decimal('value', null);
    table.integer('revision').notNullable().defaultTo(0);
    table.boolean('pending').notNullable().defaultTo(true);
    table.text('status').notNullable().defaultTo('open');
    table.timestamp('last_committed_at', { useTz: true });
    table.timestamp('emitted_at', { useTz: true });
    table
      .timestamp('updated_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.raw('clock_timestamp()'));
    table.primary(['pipeline', 'metric', 'window_start', 'window_end', 'group_key']);
  });
  await knex.raw(
    "ALTER TABLE provisional.metric_values ADD CONSTRAINT metric_values_status CHECK (status IN ('open', 'closed'))",
  );
  await knex.raw(
    'CREATE INDEX metric_values_pending ON provisional.metric_values (pipeline, metric, window_end) WHERE pending',
  );
  await knex.raw(
    "CREATE INDEX metric_values_open ON provisional.metric_values (pipeline, metric, window_end) WHERE status = 'open'",
  );

  // Per row, the LSN of its last applied change: a redelivered change is not newer, and a row
  // never seen has no contribution to retract.
  await knex.schema.withSchema('stream').createTable('row_versions', (table) => {
    table.text('pipeline').notNullable();
    table.text('source_table').notNullable();
    table.text('primary_key').notNullable();
    table.bigInteger('lsn').notNullable();
    table.primary(['pipeline', 'source_table', 'primary_key']);
  });

  // The open sessions' contributions per (metric, key), and where the closed ones ended.
  await knex.schema.withSchema('stream').createTable('session_state', (table) => {
    table.text('pipeline').notNullable();
    table.text('metric').notNullable();
    table.text('group_key').notNullable();
    table.jsonb('key_values').notNullable();
    table.jsonb('entries').notNullable();
    table.bigInteger('closed_until_ms');
    table.primary(['pipeline', 'metric', 'group_key']);
  });

  // Each metric's watermark, as the stream last advanced it.
  await knex.schema.withSchema('stream').createTable('watermarks', (table) => {
    table.text('pipeline').notNullable();
    table.text('metric').notNullable();
    table.timestamp('watermark', { useTz: true }).notNullable();
    table
      .timestamp('updated_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.raw('clock_timestamp()'));
    table.primary(['pipeline', 'metric']);
  });

  // The largest event time read from each partition, stored with its offset.
  await knex.schema.withSchema('ops').alterTable('consumer_offsets', (table) => {
    table.bigInteger('max_event_time_ms');
  });

  // Contributions kept out of closed windows, with the reason: never dropped silently.
  await knex.schema.withSchema('ops').createTable('late_events', (table) => {
    table.bigIncrements('id');
    table.text('pipeline').notNullable();
    table.text('metric').notNullable();
    table.timestamp('window_start', { useTz: true });
    table.timestamp('window_end', { useTz: true });
    table.text('group_key');
    table.jsonb('key_values');
    table.text('source_table').notNullable();
    table.text('primary_key').notNullable();
    table.bigInteger('lsn');
    table.text('op').notNullable();
    table.smallint('sign').notNullable();
    table.timestamp('event_time', { useTz: true });
    table.jsonb('measure');
    table.text('reason').notNullable();
    table.timestamp('watermark', { useTz: true });
    table
      .timestamp('recorded_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.raw('clock_timestamp()'));
  });
  await knex.raw(`CREATE UNIQUE INDEX late_events_once ON ops.late_events
    (pipeline, metric, source_table, primary_key, lsn, sign, window_start) NULLS NOT DISTINCT`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('ops').dropTable('late_events');
  await knex.schema.withSchema('ops').alterTable('consumer_offsets', (table) => {
    table.dropColumn('max_event_time_ms');
  });
  await knex.schema.withSchema('provisional').dropTable('metric_values');
  await knex.raw('DROP SCHEMA stream CASCADE');
}
