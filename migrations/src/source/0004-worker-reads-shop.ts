import type { Knex } from 'knex';

// The batch worker reads the captured tables (quality checks against the source, the trace
// workflow) as its own role rather than the warehouse owner's. Runs as tidemark_app; tables the
// application adds to `shop` later are readable by Debezium and the worker alike.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('GRANT USAGE ON SCHEMA shop TO tidemark_worker');
  await knex.raw('GRANT SELECT ON ALL TABLES IN SCHEMA shop TO tidemark_worker');
  await knex.raw(
    'ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO tidemark_debezium, tidemark_worker',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'ALTER DEFAULT PRIVILEGES IN SCHEMA shop REVOKE SELECT ON TABLES FROM tidemark_debezium, tidemark_worker',
  );
  await knex.raw('REVOKE SELECT ON ALL TABLES IN SCHEMA shop FROM tidemark_worker');
  await knex.raw('REVOKE USAGE ON SCHEMA shop FROM tidemark_worker');
}
