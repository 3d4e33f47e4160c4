import type { Knex } from 'knex';

// The batch layer's tables: consolidation runs, final values staged per run and published
// atomically, the trail of every published value that changed, the quality gate's results and
// the reconciliation of provisional against final.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('final').createTable('runs', (table) => {
    table.text('run_id').primary();
    table.text('workflow_id').notNullable();
    table.date('day').notNullable();
    table.timestamp('range_start', { useTz: true }).notNullable();
    table.timestamp('range_end', { useTz: true }).notNullable();
    table.timestamp('cutoff', { useTz: true }).notNullable();
    table.text('reason').notNullable();
    // computing -> gated -> published | blocked
    table.text('status').notNullable();
    table.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('finished_at', { useTz: true });
    table.index(['day']);
  });

  const valueColumns = (table: Knex.CreateTableBuilder) => {
    table.text('metric').notNullable();
    table.timestamp('window_start', { useTz: true }).notNullable();
    table.timestamp('window_end', { useTz: true }).notNullable();
    table.jsonb('key_values').notNullable();
    table.decimal('value', null);
    table.bigInteger('rows').notNullable();
  };
  await knex.schema.withSchema('final').createTable('staged_values', (table) => {
    table.text('run_id').notNullable().references('run_id').inTable('final.runs');
    valueColumns(table);
    table.primary(['run_id', 'metric', 'window_start', 'window_end', 'key_values']);
  });
  await knex.schema.withSchema('final').createTable('metric_values', (table) => {
    valueColumns(table);
    table.text('run_id').notNullable().references('run_id').inTable('final.runs');
    table.timestamp('published_at', { useTz: true }).notNullable();
    table.primary(['metric', 'window_start', 'window_end', 'key_values']);
  });
  // Every published value that a later run changed or removed: what, when, by which run, why.
  await knex.schema.withSchema('final').createTable('value_changes', (table) => {
    table.bigIncrements('id');
    table.text('run_id').notNullable().references('run_id').inTable('final.runs');
    table.text('metric').notNullable();
    table.timestamp('window_start', { useTz: true }).notNullable();
    table.timestamp('window_end', { useTz: true }).notNullable();
    table.jsonb('key_values').notNullable();
    table.decimal('previous_value', null);
    table.decimal('new_value', null);
    table.text('previous_run_id');
    table.text('reason').notNullable();
    table.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.withSchema('quality').createTable('results', (table) => {
    table.text('run_id').notNullable().references('run_id').inTable('final.runs');
    table.text('expectation').notNullable();
    table.text('severity').notNullable();
    table.boolean('passed').notNullable();
    table.jsonb('observed').notNullable();
    table.text('message').notNullable();
    table.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(['run_id', 'expectation']);
  });

  await knex.schema.withSchema('audit').createTable('reconciliation', (table) => {
    table.text('run_id').notNullable().references('run_id').inTable('final.runs');
    table.text('metric').notNullable();
    table.timestamp('window_start', { useTz: true }).notNullable();
    table.timestamp('window_end', { useTz: true }).notNullable();
    table.jsonb('key_values').notNullable();
    table.decimal('provisional', null);
    table.decimal('final', null);
    table.decimal('difference', null);
    table.text('cause').notNullable();
    table.primary(['run_id', 'metric', 'window_start', 'window_end', 'key_values']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('audit').dropTable('reconciliation');
  await knex.schema.withSchema('quality').dropTable('results');
  await knex.schema.withSchema('final').dropTable('value_changes');
  await knex.schema.withSchema('final').dropTable('metric_values');
  await knex.schema.withSchema('final').dropTable('staged_values');
  await knex.schema.withSchema('final').dropTable('runs');
}
