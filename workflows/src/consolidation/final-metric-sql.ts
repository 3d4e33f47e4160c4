import type { Condition, Measure, MetricDefinition } from '@tidemark/contracts';

/** A parameterised SQL statement for knex.raw. */
export interface SqlStatement {
  sql: string;
  bindings: (string | number | boolean | Date)[];
}

/** The day (or any range) a consolidation computes, and the changelog cutoff it reads up to. */
export interface ConsolidationRange {
  /** Windows (and sessions) starting at or after this instant... */
  start: Date;
  /** ...and before this one belong to the range. */
  end: Date;
  /** Changes committed at or before this instant make the state the metrics are computed from. */
  cutoff: Date;
}

// How far around the range a session's events are read: a session starting in the range may
// run past its end, and an event just after its start may continue an earlier session.
const SESSION_CONTEXT_MS = 24 * 60 * 60 * 1000;

/**
 * The state of a source table as of the cutoff, rebuilt from the raw changelog: the latest
 * version of every primary key, deletes removed, rows before a truncate gone. Yields `row jsonb`.
 */
export function tableStateSql(table: string, cutoff: Date): SqlStatement {
  return latestVersionsSql(table, cutoff);
}

/**
 * The part of a table's state as of the cutoff that can hold event times in [from, to): the
 * latest version of every row one of whose versions had its event time there. Only the days
 * committed since `from` are scanned for candidates (a change is committed at or after its event
 * time), then the candidates' whole history is read to find their latest version.
 */
export function eventRangeStateSql(
  table: string,
  eventTimeField: string,
  from: Date,
  to: Date,
  cutoff: Date,
): SqlStatement {
  return latestVersionsSql(table, cutoff, {
    sql: `
        SELECT DISTINCT primary_key
          FROM raw.change_events
         WHERE source_table = ? AND committed_at >= ? AND committed_at <= ?
           AND (after ->> ?)::timestamptz >= ? AND (after ->> ?)::timestamptz < ?`,
    bindings: [table, from, cutoff, eventTimeField, from, eventTimeField, to],
  });
}

/** The latest version as of the cutoff of every row (or of the candidate rows), as `row jsonb`. */
function latestVersionsSql(table: string, cutoff: Date, candidates?: SqlStatement): SqlStatement {
  const candidatesCte = candidates ? `candidates AS (${candidates.sql}\n      ), ` : '';
  const join = candidates ? 'JOIN candidates USING (primary_key)' : '';
  return {
    sql: `
      WITH ${candidatesCte}latest AS (
        SELECT DISTINCT ON (primary_key) change.op, change.after, change.committed_at
          FROM raw.change_events change
          ${join}
         WHERE change.source_table = ? AND change.committed_at <= ? AND change.op <> 't'
         ORDER BY primary_key, change.lsn DESC
      ), truncated AS (
        SELECT max(committed_at) AS at
          FROM raw.change_events
         WHERE source_table = ? AND committed_at <= ? AND op = 't'
      )
      SELECT latest.after AS row
        FROM latest, truncated
       WHERE latest.op <> 'd' AND (truncated.at IS NULL OR latest.committed_at > truncated.at)`,
    bindings: [...(candidates?.bindings ?? []), table, cutoff, table, cutoff],
  };
}

/**
 * Final values of a metric for a range, as SQL over the table state as of the cutoff: the same
 * definition the stream runs incrementally, executed in one pass. Yields `window_start`,
 * `window_end` (timestamptz), `key_values` (jsonb array), `value` (numeric) and `rows`.
 * Identifiers come from the validated definition and travel as bindings, never as SQL text.
 */
export function finalMetricSql(metric: MetricDefinition, range: ConsolidationRange): SqlStatement {
  const { bind, statement } = binder();
  const { window } = metric;
  const lookbackMs = window.kind === 'session' ? SESSION_CONTEXT_MS : window.sizeMs;
  const lookaheadMs = window.kind === 'session' ? SESSION_CONTEXT_MS : 0;
  const from = new Date(range.start.getTime() - lookbackMs);
  const to = new Date(range.end.getTime() + lookaheadMs);
  const state = eventRangeStateSql(
    metric.source.table,
    metric.eventTimeField,
    from,
    to,
    range.cutoff,
  );
  const stateSql = state.sql.replace(/\?/g, () => bind(state.bindings.shift() as Date | string));

  const eventTime = `(row ->> ${bind(metric.eventTimeField)})::timestamptz`;
  const keyValues = `jsonb_build_array(${metric.keys.map((key) => `row -> ${bind(key)}`).join(', ')})`;
  const filter = metric.filter.map((condition) => conditionSql(condition, bind));
  const aggregate = aggregateSql(metric, bind);
  const events = `
      events AS (
        SELECT row, ${keyValues} AS key_values,
               floor(extract(epoch FROM ${eventTime}) * 1000)::bigint AS t_ms
          FROM state
         WHERE ${[`${eventTime} >= ${bind(from)}`, `${eventTime} < ${bind(to)}`, ...filter].join(
           '\n           AND ',
         )}
      )`;

  if (window.kind === 'session') {
    const gap = bind(window.gapMs);
    return statement(`
      WITH state AS (${stateSql}),${events},
      ordered AS (
        SELECT *, CASE WHEN t_ms - lag(t_ms) OVER (PARTITION BY key_values ORDER BY t_ms) < ${gap}
                       THEN 0 ELSE 1 END AS starts_session
          FROM events
      ), numbered AS (
        SELECT *, sum(starts_session) OVER (PARTITION BY key_values ORDER BY t_ms
                                            ROWS UNBOUNDED PRECEDING) AS session
          FROM ordered
      ), sessions AS (
        SELECT key_values, min(t_ms) AS start_ms, max(t_ms) + ${bind(window.gapMs)} AS end_ms,
               ${aggregate} AS value, count(*) AS rows
          FROM numbered
         GROUP BY key_values, session
      )
      SELECT to_timestamp(start_ms / 1000.0) AS window_start,
             to_timestamp(end_ms / 1000.0) AS window_end, key_values, value, rows
        FROM sessions
       WHERE start_ms >= ${bind(range.start.getTime())} AND start_ms < ${bind(range.end.getTime())}
       ORDER BY window_start, key_values`);
  }

  const size = window.sizeMs;
  const slide = window.kind === 'hopping' ? window.slideMs : window.sizeMs;
  return statement(`
      WITH state AS (${stateSql}),${events},
      windowed AS (
        SELECT events.*, window_start_ms
          FROM events,
               LATERAL generate_series(
                 (t_ms / ${bind(slide)}) * ${bind(slide)} - ${bind(size - slide)},
                 (t_ms / ${bind(slide)}) * ${bind(slide)},
                 ${bind(slide)}::bigint) AS window_start_ms
      )
      SELECT to_timestamp(window_start_ms / 1000.0) AS window_start,
             to_timestamp((window_start_ms + ${bind(size)}) / 1000.0) AS window_end,
             key_values, ${aggregate} AS value, count(*) AS rows
        FROM windowed
       WHERE window_start_ms >= ${bind(range.start.getTime())}
         AND window_start_ms < ${bind(range.end.getTime())}
       GROUP BY window_start_ms, key_values
       ORDER BY window_start, key_values`);
}

export type Bind = (value: string | number | boolean | Date) => string;

/**
 * Bindings by token: `bind` returns a placeholder token that may appear anywhere (and more than
 * once) in the text; `statement` turns the tokens into `?` with the bindings in text order.
 */
export function binder(): { bind: Bind; statement: (sql: string) => SqlStatement } {
  const values: SqlStatement['bindings'] = [];
  return {
    bind: (value) => {
      values.push(value);
      return `{{binding:${values.length - 1}}}`;
    },
    statement: (sql) => {
      const bindings: SqlStatement['bindings'] = [];
      const text = sql.replace(/\{\{binding:(\d+)\}\}/g, (_, index: string) => {
        bindings.push(values[Number(index)] as SqlStatement['bindings'][number]);
        return '?';
      });
      return { sql: text, bindings };
    },
  };
}

function aggregateSql(metric: MetricDefinition, bind: Bind): string {
  const { aggregate } = metric;
  if (aggregate.fn === 'count') return 'count(*)';
  const measure = measureSql(aggregate.of, bind, aggregate.fn !== 'count_distinct');
  if (aggregate.fn === 'count_distinct') return `count(DISTINCT ${measure})`;
  return `${aggregate.fn}(${measure})`;
}

function measureSql(measure: Measure, bind: Bind, numeric: boolean): string {
  if ('indicator' in measure)
    return `(CASE WHEN ${conditionSql(measure.indicator, bind)} THEN 1 ELSE 0 END)`;
  const text = `(row ->> ${bind(measure.field)})`;
  return numeric ? `${text}::numeric` : text;
}

const COMPARISON = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * A filter condition in SQL. Comparisons with NULL are not true (three-valued logic), exactly as
 * the stream evaluates them; numbers compare numerically, decimals included.
 */
export function conditionSql(condition: Condition, bind: Bind): string {
  const field = bind(condition.field);
  if (!('value' in condition)) {
    return `(row ->> ${field}) ${condition.op === 'is_null' ? 'IS NULL' : 'IS NOT NULL'}`;
  }
  const values = Array.isArray(condition.value) ? condition.value : [condition.value];
  const cast =
    typeof values[0] === 'number' ? '::numeric' : typeof values[0] === 'boolean' ? '::boolean' : '';
  const column = `(row ->> ${field})${cast}`;
  if (condition.op === 'in' || condition.op === 'not_in') {
    const list = values.map((value: string | number | boolean) => bind(value)).join(', ');
    return `${column} ${condition.op === 'in' ? 'IN' : 'NOT IN'} (${list})`;
  }
  return `${column} ${COMPARISON[condition.op]} ${bind(values[0] as string | number | boolean)}`;
}
