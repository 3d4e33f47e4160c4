import type { Knex } from 'knex';
import type { ActivitySample } from './sql-profile';

/**
 * Samples, every `intervalMs`, what the other sessions of this database user are doing: an
 * active statement or an open transaction waiting for its client. Stop it to get the ticks.
 */
export function startSqlSampler(
  db: Knex,
  intervalMs: number,
): { stop(): Promise<ActivitySample[][]> } {
  const ticks: ActivitySample[][] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const result = await db.raw<{ rows: ActivitySample[] }>(
        `SELECT state, wait_event_type AS "waitEventType", wait_event AS "waitEvent",
                left(query, 200) AS query
           FROM pg_stat_activity
          WHERE datname = current_database() AND usename = current_user
            AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')`,
      );
      ticks.push(result.rows);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return ticks;
    },
  };
}
