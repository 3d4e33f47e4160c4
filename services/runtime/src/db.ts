import knex, { type Knex } from 'knex';
import type { DatabaseSettings } from './config';

/**
 * A knex pool on one of the stack's databases (`source` or `warehouse`). With a statement
 * timeout, the server cancels any statement running longer: a query whose process died (a
 * killed worker) does not run on for ever.
 */
export function createDatabase(
  settings: DatabaseSettings,
  poolMax = 10,
  options: { statementTimeoutMs?: number } = {},
): Knex {
  return knex({
    client: 'pg',
    connection: {
      host: settings.host,
      port: settings.port,
      database: settings.database,
      user: settings.user,
      password: settings.password,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    },
    pool: { min: 0, max: poolMax },
  });
}
