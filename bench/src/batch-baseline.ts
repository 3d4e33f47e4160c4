import type { Knex } from 'knex';

/**
 * The yardstick of the batch bench: the catalogue's metrics as the plain SQL a data engineer
 * would write over the day's final table state, already materialised as typed tables (the
 * changelog replayed, which the baseline does not pay for). Each metric is a GROUP BY (sessions:
 * gaps and islands with window functions) whose rows are written to a temporary table, as the
 * consolidation writes its staging rows.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The typed state tables, built untimed from the changelog as of the cutoff. */
const STATE_SQL = {
  bench_orders: `
    SELECT (row ->> 'id')::uuid AS id, row ->> 'customer_id' AS customer_id,
           row ->> 'currency' AS currency, (row ->> 'amount_minor')::bigint AS amount_minor,
           row ->> 'status' AS status,
           date_trunc('milliseconds', (row ->> 'created_at')::timestamptz) AS created_at`,
  bench_payments: `
    SELECT (row ->> 'id')::uuid AS id, (row ->> 'order_id')::uuid AS order_id,
           row ->> 'method' AS method, row ->> 'status' AS status,
           (row ->> 'amount_minor')::bigint AS amount_minor,
           date_trunc('milliseconds', (row ->> 'created_at')::timestamptz) AS created_at`,
} as const;

const SOURCE_TABLE = { bench_orders: 'shop.orders', bench_payments: 'shop.payments' } as const;

/**
 * Materialises the state as of the cutoff of the rows changed since `from` into temporary typed
 * tables `bench_orders` and `bench_payments` (in the caller's transaction).
 */
export async function materialiseBaselineState(
  db: Knex | Knex.Transaction,
  from: Date,
  cutoff: Date,
): Promise<Record<keyof typeof STATE_SQL, number>> {
  const rows = { bench_orders: 0, bench_payments: 0 };
  for (const name of Object.keys(STATE_SQL) as (keyof typeof STATE_SQL)[]) {
    await db.raw('DROP TABLE IF EXISTS ??', [name]);
    const created = await db.raw(
      `CREATE TEMPORARY TABLE ?? ON COMMIT DROP AS ${STATE_SQL[name]}
         FROM (SELECT DISTINCT ON (primary_key) op, after AS row
                 FROM raw.change_events
                WHERE source_table = ? AND committed_at >= ? AND committed_at <= ?
                ORDER BY primary_key, lsn DESC) latest
        WHERE op <> 'd'`,
      [name, SOURCE_TABLE[name], from, cutoff],
    );
    rows[name] = (created as { rowCount: number }).rowCount;
    await db.raw('ANALYZE ??', [name]);
  }
  return rows;
}

/** The plain SQL of each catalogue metric over the typed state, for the day starting at `day`. */
export function baselineMetricSql(day: Date): Record<string, { sql: string; bindings: Date[] }> {
  const start = day;
  const end = new Date(day.getTime() + DAY_MS);
  const hopFrom = new Date(day.getTime() - 4 * MINUTE_MS);
  const sessionFrom = new Date(day.getTime() - DAY_MS);
  const sessionTo = new Date(day.getTime() + 2 * DAY_MS);
  return {
    orders_per_minute: {
      sql: `
        SELECT date_trunc('minute', created_at) AS window_start,
               date_trunc('minute', created_at) + interval '1 minute' AS window_end,
               jsonb_build_array(currency) AS key_values, count(*) AS value, count(*) AS rows
          FROM bench_orders
         WHERE created_at >= ? AND created_at < ? AND status <> 'cancelled'
         GROUP BY date_trunc('minute', created_at), currency`,
      bindings: [start, end],
    },
    revenue_per_minute: {
      sql: `
        SELECT date_trunc('minute', created_at) AS window_start,
               date_trunc('minute', created_at) + interval '1 minute' AS window_end,
               jsonb_build_array(currency) AS key_values, sum(amount_minor) AS value,
               count(*) AS rows
          FROM bench_orders
         WHERE created_at >= ? AND created_at < ? AND status NOT IN ('cancelled', 'refunded')
         GROUP BY date_trunc('minute', created_at), currency`,
      bindings: [start, end],
    },
    payment_failure_rate: {
      sql: `
        SELECT window_start, window_start + interval '5 minutes' AS window_end,
               jsonb_build_array(method) AS key_values,
               avg(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS value, count(*) AS rows
          FROM bench_payments,
               generate_series(date_trunc('minute', created_at) - interval '4 minutes',
                               date_trunc('minute', created_at), interval '1 minute') AS window_start
         WHERE created_at >= ? AND created_at < ? AND window_start >= ? AND window_start < ?
         GROUP BY window_start, method`,
      bindings: [hopFrom, end, start, end],
    },
    customer_sessions: {
      sql: `
        SELECT min(created_at) AS window_start,
               max(created_at) + interval '30 minutes' AS window_end,
               jsonb_build_array(customer_id) AS key_values, count(*) AS value, count(*) AS rows
          FROM (SELECT customer_id, created_at,
                       sum(starts_session) OVER (PARTITION BY customer_id ORDER BY created_at
                                                 ROWS UNBOUNDED PRECEDING) AS session
                  FROM (SELECT customer_id, created_at,
                               CASE WHEN created_at - lag(created_at) OVER (
                                           PARTITION BY customer_id ORDER BY created_at)
                                         < interval '30 minutes'
                                    THEN 0 ELSE 1 END AS starts_session
                          FROM bench_orders
                         WHERE created_at >= ? AND created_at < ?) gaps) sessions
         GROUP BY customer_id, session
        HAVING min(created_at) >= ? AND min(created_at) < ?`,
      bindings: [sessionFrom, sessionTo, start, end],
    },
  };
}

// The changelog read as a plain table: every change of the day with a row after it (inserts and
// updates; deletes have none) counted as an event, no latest-version rebuild. Its numbers are not
// the final values (an updated row counts twice): it measures the cost of one GROUP BY pass over
// the same million rows the consolidation reads.
const CHANGES = (table: string, from: string, to: string) => `
  (SELECT (after ->> 'id') AS id, after ->> 'customer_id' AS customer_id,
          after ->> 'currency' AS currency, (after ->> 'amount_minor')::bigint AS amount_minor,
          after ->> 'status' AS status, after ->> 'method' AS method,
          (after ->> 'created_at')::timestamptz AS created_at
     FROM raw.change_events
    WHERE source_table = '${table}' AND committed_at >= ${from} AND committed_at <= ${to}
      AND after IS NOT NULL)`;

/**
 * The same plain SQL over the day's changes themselves (see CHANGES), committed between `from`
 * and the cutoff.
 */
export function changelogMetricSql(
  day: Date,
  cutoff: Date,
): Record<string, { sql: string; bindings: Date[] }> {
  const typed = baselineMetricSql(day);
  const from = new Date(day.getTime() - DAY_MS);
  const over = (metric: string, table: string, relation: string) => {
    const query = typed[metric] as { sql: string; bindings: Date[] };
    return {
      sql: query.sql.replace(`FROM ${relation}`, `FROM ${CHANGES(table, '?', '?')} AS ${relation}`),
      bindings: [from, cutoff, ...query.bindings],
    };
  };
  return {
    orders_per_minute: over('orders_per_minute', 'shop.orders', 'bench_orders'),
    revenue_per_minute: over('revenue_per_minute', 'shop.orders', 'bench_orders'),
    payment_failure_rate: over('payment_failure_rate', 'shop.payments', 'bench_payments'),
    customer_sessions: over('customer_sessions', 'shop.orders', 'bench_orders'),
  };
}

/**
 * Runs the baseline of the given metrics (over the typed state, or the given queries) into the
 * temporary table `bench_baseline_values`.
 */
export async function runBaseline(
  db: Knex | Knex.Transaction,
  day: Date,
  metrics: readonly string[],
  queries: Record<string, { sql: string; bindings: Date[] }> = baselineMetricSql(day),
): Promise<{ rows: number; metrics: string[] }> {
  await db.raw('DROP TABLE IF EXISTS bench_baseline_values');
  await db.raw(`CREATE TEMPORARY TABLE bench_baseline_values (
      metric text, window_start timestamptz, window_end timestamptz, key_values jsonb,
      value numeric, rows bigint) ON COMMIT DROP`);
  let rows = 0;
  const covered: string[] = [];
  for (const metric of metrics) {
    const query = queries[metric];
    if (!query) continue;
    const inserted = await db.raw(
      `INSERT INTO bench_baseline_values SELECT ?, * FROM (${query.sql}) computed`,
      [metric, ...query.bindings],
    );
    rows += (inserted as { rowCount: number }).rowCount;
    covered.push(metric);
  }
  return { rows, metrics: covered };
}

/** Rows of the run's staged values and of the baseline that do not match (either side). */
export async function compareWithBaseline(
  db: Knex | Knex.Transaction,
  runId: string,
  metrics: readonly string[],
): Promise<{ compared: number; mismatched: number }> {
  // Window bounds compared in milliseconds: the final SQL derives them from epoch milliseconds.
  const result = await db.raw(
    `WITH final AS (
       SELECT metric, key_values, value, rows,
              floor(extract(epoch FROM window_start) * 1000) AS start_ms,
              floor(extract(epoch FROM window_end) * 1000) AS end_ms
         FROM final.staged_values WHERE run_id = ? AND metric = ANY(?::text[])
     ), baseline AS (
       SELECT metric, key_values, value, rows,
              floor(extract(epoch FROM window_start) * 1000) AS start_ms,
              floor(extract(epoch FROM window_end) * 1000) AS end_ms
         FROM bench_baseline_values
     )
     SELECT count(*)::int AS compared,
            count(*) FILTER (WHERE final.metric IS NULL OR baseline.metric IS NULL
                                OR final.rows <> baseline.rows
                                OR abs(final.value - baseline.value) > 1e-9)::int AS mismatched
       FROM final FULL JOIN baseline USING (metric, key_values, start_ms, end_ms)`,
    [runId, [...metrics]],
  );
  return (
    (result.rows as { compared: number; mismatched: number }[])[0] ?? {
      compared: 0,
      mismatched: 0,
    }
  );
}
