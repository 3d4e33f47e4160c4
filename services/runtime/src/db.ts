import knex, { type Knex } from 'knex';
import type { DatabaseSettings } from './config';

/** A knex pool on one of the stack's databases (`source` or `warehouse`). */
export function createDatabase(settings: DatabaseSettings, poolMax = 10): Knex {
  return knex({
    client: 'pg',
    connection: {
      host: settings.host,
      port: settings.port,
      database: settings.database,
      user: settings.user,
      password: settings.password,
    },
    pool: { min: 0, max: poolMax },
  });
}
