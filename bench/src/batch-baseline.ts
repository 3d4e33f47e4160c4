import { METRICS, type Condition, type MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';

/**
 * The yardstick of the batch bench: each metric as the plain SQL a data engineer would write over
 * the day's final table state, already materialised as typed tables (the changelog replayed,
 * which the baseline does not pay for). Each metric is a GROUP BY (hopping windows: a series per
 * event; sessions: gaps and islands with window functions) whose rows are written to a temporary
 * table, as the consolidation writes its staging rows. The SQL is written here, independently of
 * the consolidation's generator, but its filters, keys, aggregates and windows are read from the
 * catalogue's definitions, so a change to a metric cannot leave the yardstick measuring another.
 */

const DAY_MS = 86_400_000;

type Bound = string | number | boolean | Date;
type Query = { sql: string; bindings: Bound[] };
type ColumnType = 'timestamptz' | 'numeric' | 'boolean' | 'text';

/** The typed relation holding a source table's state, e.g. `bench_shop_orders`. */
export function baselineRelation(table: string): string {
  return `bench_${table.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}`;
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

function conditionType(condition: Condition): ColumnType {
  if (!('value' in condition)) return 'text';
  const value = Array.isArray(condition.value) ? condition.value[0] : condition.value;
  return typeof value === 'number' ? 'numeric' : typeof value === 'boolean' ? 'boolean' : 'text';
}

/** Each source table's typed columns: the fields its metrics read, typed by how they read them. */
export function baselineColumns(
  definitions: readonly MetricDefinition[],
): Map<string, Map<string, ColumnType>> {
  const tables = new Map<string, Map<string, ColumnType>>();
  const use = (table: string, field: string, type: ColumnType) => {
    const columns = tables.get(table) ?? new Map<string, ColumnType>();
    const known = columns.get(field);
    // A field read both as a number and as text is kept as a number (the stricter reading).
    if (known === undefined || known === 'text') columns.set(field, type);
    tables.set(table, columns);
  };
  for (const metric of definitions) {
    const table = metric.source.table;
    use(table, metric.eventTimeField, 'timestamptz');
    for (const key of metric.keys) use(table, key, 'text');
    for (const condition of metric.filter) use(table, condition.field, conditionType(condition));
    const { aggregate } = metric;
    if (aggregate.fn === 'count') continue;
    if ('indicator' in aggregate.of) {
      use(table, aggregate.of.indicator.field, conditionType(aggregate.of.indicator));
    } else {
      use(table, aggregate.of.field, aggregate.fn === 'count_distinct' ? 'text' : 'numeric');
    }
  }
  return tables;
}

/** The typed columns read from a row image column (`after`, or the state's `row`). */
function typedColumnsSql(columns: Map<string, ColumnType>, image: string): string {
  return [...columns]
    .map(([field, type]) => {
      const text = `(${image} ->> '${field.replaceAll("'", "''")}')`;
      const typed =
        type === 'timestamptz'
          ? `date_trunc('milliseconds', ${text}::timestamptz)`
          : type === 'text'
            ? text
            : `${text}::${type}`;
      return `${typed} AS ${quoted(field)}`;
    })
    .join(', ');
}

/**
 * Materialises the state as of the cutoff of the rows changed since `from` into one temporary
 * typed table per source table (`baselineRelation`), in the caller's transaction.
 */
export async function materialiseBaselineState(
  db: Knex | Knex.Transaction,
  from: Date,
  cutoff: Date,
  definitions: readonly MetricDefinition[] = METRICS,
): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const [table, columns] of baselineColumns(definitions)) {
    const name = baselineRelation(table);
    await db.raw('DROP TABLE IF EXISTS ??', [name]);
    const created = await db.raw(
      `CREATE TEMPORARY TABLE ?? ON COMMIT DROP AS SELECT ${typedColumnsSql(columns, 'row')}
         FROM (SELECT DISTINCT ON (primary_key) op, after AS row
                 FROM raw.change_events
                WHERE source_table = ? AND committed_at >= ? AND committed_at <= ?
                ORDER BY primary_key, lsn DESC) latest
        WHERE op <> 'd'`,
      [name, table, from, cutoff],
    );
    rows[name] = (created as { rowCount: number }).rowCount;
    await db.raw('ANALYZE ??', [name]);
  }
  return rows;
}

function conditionSql(condition: Condition, bindings: Bound[]): string {
  const column = quoted(condition.field);
  if (!('value' in condition)) {
    return `${column} ${condition.op === 'is_null' ? 'IS NULL' : 'IS NOT NULL'}`;
  }
  if (Array.isArray(condition.value)) {
    bindings.push(...condition.value);
    const list = condition.value.map(() => '?').join(', ');
    return `${column} ${condition.op === 'in' ? 'IN' : 'NOT IN'} (${list})`;
  }
  const operators = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
  bindings.push(condition.value as Bound);
  return `${column} ${operators[condition.op as keyof typeof operators]} ?`;
}

function aggregateSql(metric: MetricDefinition, bindings: Bound[]): string {
  const { aggregate } = metric;
  if (aggregate.fn === 'count') return 'count(*)';
  if ('indicator' in aggregate.of) {
    const measure = `CASE WHEN ${conditionSql(aggregate.of.indicator, bindings)} THEN 1 ELSE 0 END`;
    return `${aggregate.fn === 'count_distinct' ? 'count(DISTINCT' : `${aggregate.fn}(`}${measure})`;
  }
  const column = quoted(aggregate.of.field);
  return aggregate.fn === 'count_distinct'
    ? `count(DISTINCT ${column})`
    : `${aggregate.fn}(${column})`;
}

/** The plain SQL of one metric over its table's typed state, for the day starting at `day`. */
function metricSql(metric: MetricDefinition, day: Date, relation: string): Query {
  const start = day;
  const end = new Date(day.getTime() + DAY_MS);
  const time = quoted(metric.eventTimeField);
  const keys = `jsonb_build_array(${metric.keys.map(quoted).join(', ')})`;
  const groupKeys = metric.keys.map(quoted);
  const { window } = metric;
  // The aggregate's bindings come first in the text (SELECT), then the filter's (WHERE).
  const selectBindings: Bound[] = [];
  const aggregate = aggregateSql(metric, selectBindings);
  const whereBindings: Bound[] = [];
  const filter = metric.filter.map((condition) => `AND ${conditionSql(condition, whereBindings)}`);
  if (window.kind === 'session') {
    const gap = `interval '${window.gapMs} milliseconds'`;
    return {
      sql: `
        SELECT min(${time}) AS window_start, max(${time}) + ${gap} AS window_end,
               ${keys} AS key_values, ${aggregate} AS value, count(*) AS rows
          FROM (SELECT *, sum(starts_session) OVER (PARTITION BY ${[...groupKeys, '1'].join(', ')}
                                                    ORDER BY ${time} ROWS UNBOUNDED PRECEDING)
                            AS session
                  FROM (SELECT *, CASE WHEN ${time} - lag(${time}) OVER (
                                              PARTITION BY ${[...groupKeys, '1'].join(', ')} ORDER BY ${time})
                                            < ${gap}
                                       THEN 0 ELSE 1 END AS starts_session
                          FROM ${relation}
                         WHERE ${time} >= ? AND ${time} < ? ${filter.join(' ')}) gaps) sessions
         GROUP BY ${[...groupKeys, 'session'].join(', ')}
        HAVING min(${time}) >= ? AND min(${time}) < ?`,
      bindings: [
        ...selectBindings,
        new Date(start.getTime() - DAY_MS),
        new Date(end.getTime() + DAY_MS),
        ...whereBindings,
        start,
        end,
      ],
    };
  }
  const size = `interval '${window.sizeMs} milliseconds'`;
  const slideMs = window.kind === 'hopping' ? window.slideMs : window.sizeMs;
  const slide = `interval '${slideMs} milliseconds'`;
  const bin = `date_bin(${slide}, ${time}, timestamptz 'epoch')`;
  return {
    sql: `
        SELECT window_start, window_start + ${size} AS window_end,
               ${keys} AS key_values, ${aggregate} AS value, count(*) AS rows
          FROM ${relation},
               generate_series(${bin} - ${size} + ${slide}, ${bin}, ${slide}) AS window_start
         WHERE ${time} >= ? AND ${time} < ? AND window_start >= ? AND window_start < ?
               ${filter.join(' ')}
         GROUP BY ${['window_start', ...groupKeys].join(', ')}`,
    bindings: [
      ...selectBindings,
      new Date(start.getTime() - window.sizeMs),
      end,
      start,
      end,
      ...whereBindings,
    ],
  };
}

/** The plain SQL of each metric over the typed state, for the day starting at `day`. */
export function baselineMetricSql(
  day: Date,
  definitions: readonly MetricDefinition[] = METRICS,
): Record<string, Query> {
  return Object.fromEntries(
    definitions.map((metric) => [
      metric.name,
      metricSql(metric, day, baselineRelation(metric.source.table)),
    ]),
  );
}

/**
 * The same plain SQL over the day's changes themselves, committed between the day before and the
 * cutoff: every change with a row after it (inserts and updates; deletes have none) counted as an
 * event, no latest-version rebuild. Its numbers are not the final values (an updated row counts
 * twice): it measures the cost of one GROUP BY pass over the same rows the consolidation reads.
 */
export function changelogMetricSql(
  day: Date,
  cutoff: Date,
  definitions: readonly MetricDefinition[] = METRICS,
): Record<string, Query> {
  const from = new Date(day.getTime() - DAY_MS);
  const columns = baselineColumns(definitions);
  return Object.fromEntries(
    definitions.map((metric) => {
      const table = metric.source.table;
      const changes = `(SELECT ${typedColumnsSql(columns.get(table) ?? new Map(), 'after')}
           FROM raw.change_events
          WHERE source_table = ? AND committed_at >= ? AND committed_at <= ?
            AND after IS NOT NULL) AS ${baselineRelation(table)}`;
      const query = metricSql(metric, day, changes);
      // The changes' bindings sit in FROM, after the aggregate's (an indicator's) in SELECT.
      const selectCount = (query.sql.split('FROM')[0]?.match(/\?/g) ?? []).length;
      const bindings = [...query.bindings];
      bindings.splice(selectCount, 0, table, from, cutoff);
      return [metric.name, { sql: query.sql, bindings }];
    }),
  );
}

/**
 * Runs the baseline of the given metrics (over the typed state, or the given queries) into the
 * temporary table `bench_baseline_values`.
 */
export async function runBaseline(
  db: Knex | Knex.Transaction,
  day: Date,
  metrics: readonly string[],
  queries: Record<string, { sql: string; bindings: Bound[] }> = baselineMetricSql(day),
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
