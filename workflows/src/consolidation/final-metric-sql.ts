import type { MetricDefinition } from '@tidemark/contracts';
import {
  aggregateSql,
  conditionSql,
  measureSql,
  sessionsSql,
  windowStartsSql,
  type Bind,
} from '@tidemark/stream/windowing';

// The final values' SQL composed from the stream operators' SQL twins (filter, measure,
// aggregate, window assignment, sessions: services/stream/src/windowing/), so both engines read
// one definition of each; the parity test runs both on random changelogs and definitions.

export type { Bind } from '@tidemark/stream/windowing';
export { conditionSql } from '@tidemark/stream/windowing';

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

/**
 * Memory for a consolidation's sorts and aggregates, set for its transactions only: a day of
 * changes sorts in memory instead of spilling to disk.
 */
export const CONSOLIDATION_WORK_MEM = '256MB';

// How far around the range a session's events are read: a session starting in the range may
// run past its end, and an event just after its start may continue an earlier session.
const SESSION_CONTEXT_MS = 24 * 60 * 60 * 1000;

/** The event times a metric reads to compute a range: its windows' reach around the range. */
export function eventRangeOf(
  metric: MetricDefinition,
  range: Pick<ConsolidationRange, 'start' | 'end'>,
): { from: Date; to: Date } {
  const { window } = metric;
  const lookbackMs = window.kind === 'session' ? SESSION_CONTEXT_MS : window.sizeMs;
  const lookaheadMs = window.kind === 'session' ? SESSION_CONTEXT_MS : 0;
  return {
    from: new Date(range.start.getTime() - lookbackMs),
    to: new Date(range.end.getTime() + lookaheadMs),
  };
}

/**
 * The state of a source table as of the cutoff, rebuilt from the raw changelog: the latest
 * version of every primary key, deletes removed, rows before a truncate gone. Yields `row jsonb`.
 */
export function tableStateSql(table: string, cutoff: Date): SqlStatement {
  const latest = latestVersionsSql(table, cutoff);
  return {
    sql: `${latest.sql}
      SELECT row FROM latest_rows`,
    bindings: latest.bindings,
  };
}

/**
 * The part of a table's state as of the cutoff whose event time is in [from, to), with the event
 * time in epoch milliseconds: yields `row jsonb` and `t_ms bigint`.
 *
 * Only the changes committed in [from, cutoff] are read: a change is committed at or after its
 * event time, so the latest version of a row with its event time in the range was committed
 * since `from`, and it is the latest of that row's changes committed since then. Older
 * partitions are not scanned (their truncates only, by index), whatever history is behind.
 */
export function eventRangeStateSql(
  table: string,
  eventTimeField: string,
  from: Date,
  to: Date,
  cutoff: Date,
  options: { withKey?: boolean } = {},
): SqlStatement {
  const latest = latestVersionsSql(table, cutoff, from);
  const key = options.withKey ? ', primary_key' : '';
  // OFFSET 0 keeps the subquery apart, so each row's event time is parsed once, not per use.
  return {
    sql: `${latest.sql}
      SELECT row, t_ms${key}
        FROM (SELECT row${key}, floor(extract(epoch FROM (row ->> ?)::timestamptz) * 1000)::bigint AS t_ms
                FROM latest_rows OFFSET 0) timed
       WHERE t_ms >= ? AND t_ms < ?`,
    bindings: [...latest.bindings, eventTimeField, from.getTime(), to.getTime()],
  };
}

/**
 * `WITH ... latest_rows AS (...)`: the latest version as of the cutoff of every row changed since
 * `from` (of every row when absent), deletes and rows before the last truncate removed.
 */
function latestVersionsSql(table: string, cutoff: Date, from?: Date): SqlStatement {
  // Ordering by the key's hash first compares integers, not jsonb, for all but equal keys:
  // several times cheaper than sorting by the key alone, and the same grouping.
  return {
    sql: `
      WITH latest AS (
        SELECT DISTINCT ON (jsonb_hash(primary_key), primary_key) primary_key, op, after, committed_at
          FROM raw.change_events
         WHERE source_table = ?${from ? ' AND committed_at >= ?' : ''} AND committed_at <= ?
           AND op <> 't'
         ORDER BY jsonb_hash(primary_key), primary_key, lsn DESC
      ), truncated AS (
        SELECT max(committed_at) AS at
          FROM raw.change_events
         WHERE source_table = ? AND committed_at <= ? AND op = 't'
      ), latest_rows AS (
        SELECT latest.after AS row, latest.primary_key
          FROM latest, truncated
         WHERE latest.op <> 'd' AND (truncated.at IS NULL OR latest.committed_at > truncated.at)
      )`,
    bindings: [table, ...(from ? [from] : []), cutoff, table, cutoff],
  };
}

/** A relation holding a table's event-range state (`row`, `t_ms`), e.g. a temporary table. */
export interface MaterialisedState {
  relation: string;
}

const RELATION = /^[a-z_][a-z0-9_]*$/;

/**
 * Final values of a metric for a range, as SQL over the table state as of the cutoff: the same
 * definition the stream runs incrementally, executed in one pass. Yields `window_start`,
 * `window_end` (timestamptz), `key_values` (jsonb array), `value` (numeric) and `rows`, in no
 * particular order. The state is rebuilt inside the statement, or read from `materialised`: the
 * event-range state of the metric's table over at least the metric's event range (see
 * eventRangeOf), so that several metrics of one table share one rebuild.
 * Identifiers come from the validated definition and travel as bindings, never as SQL text.
 */
export function finalMetricSql(
  metric: MetricDefinition,
  range: ConsolidationRange,
  materialised?: MaterialisedState,
): SqlStatement {
  const { bind, statement } = binder();
  const { window } = metric;
  const events = eventsSql(metric, range, bind, materialised);

  if (window.kind === 'session') {
    return statement(`${events},${sessionsSql(metric.aggregate, window.gapMs, bind)}
      SELECT to_timestamp(start_ms / 1000.0) AS window_start,
             to_timestamp(end_ms / 1000.0) AS window_end, key_values, value, rows
        FROM sessions
       WHERE start_ms >= ${bind(range.start.getTime())} AND start_ms < ${bind(range.end.getTime())}`);
  }

  return statement(`${events},
      windowed AS (
        SELECT events.*, window_start_ms
          FROM events, LATERAL ${windowStartsSql(window, bind)}
      )
      SELECT to_timestamp(window_start_ms / 1000.0) AS window_start,
             to_timestamp((window_start_ms + ${bind(window.sizeMs)}) / 1000.0) AS window_end,
             key_values, ${aggregateSql(metric.aggregate)} AS value, count(*) AS rows
        FROM windowed
       WHERE window_start_ms >= ${bind(range.start.getTime())}
         AND window_start_ms < ${bind(range.end.getTime())}
       GROUP BY window_start_ms, key_values`);
}

/**
 * The events of a metric's final values over its event range, one per row of the table's state
 * as of the cutoff that passes the filter: `key_values`, `t_ms` and `measure` (and `key_hash`
 * for sessions), as `WITH [state AS (...),] events AS (...)` text whose bindings are `bind`'s.
 */
function eventsSql(
  metric: MetricDefinition,
  range: ConsolidationRange,
  bind: Bind,
  materialised?: MaterialisedState,
): string {
  const { window } = metric;
  const { from, to } = eventRangeOf(metric, range);
  let state = 'state';
  let stateCte = '';
  if (materialised) {
    if (!RELATION.test(materialised.relation)) {
      throw new Error(`not a relation name: "${materialised.relation}"`);
    }
    state = `"${materialised.relation}"`;
  } else {
    const rebuilt = eventRangeStateSql(
      metric.source.table,
      metric.eventTimeField,
      from,
      to,
      range.cutoff,
    );
    const rebuiltSql = rebuilt.sql.replace(/\?/g, () =>
      bind(rebuilt.bindings.shift() as SqlStatement['bindings'][number]),
    );
    stateCte = `
      state AS (${rebuiltSql}),`;
  }
  const keyValues = `jsonb_build_array(${metric.keys.map((key) => `row -> ${bind(key)}`).join(', ')})`;
  const filter = metric.filter.map((condition) => conditionSql(condition, bind));
  // Each event narrowed to what the windows and the aggregate need; materialised where a sort
  // follows (sessions, hopping windows), so that it moves a few bytes per event, not its row.
  const materialise = window.kind === 'tumbling' ? '' : ' MATERIALIZED';
  return `
      WITH${stateCte}
      events AS${materialise} (
        SELECT ${keyValues} AS key_values, t_ms, ${measureSql(metric, bind)} AS measure${
          window.kind === 'session' ? `, jsonb_hash(${keyValues}) AS key_hash` : ''
        }
          FROM ${state}
         WHERE ${[
           `t_ms >= ${bind(from.getTime())}`,
           `t_ms < ${bind(to.getTime())}`,
           ...filter,
         ].join('\n           AND ')}
      )`;
}

/**
 * The events behind some keys' final values (see `eventsSql`), for the reconciliation to replay
 * what the stream kept out against: `key_values`, `t_ms`, `measure`, in no particular order.
 */
export function finalEventsSql(
  metric: MetricDefinition,
  range: ConsolidationRange,
  keys: readonly unknown[][],
): SqlStatement {
  const { bind, statement } = binder();
  const events = eventsSql(metric, range, bind);
  return statement(`${events}
      SELECT key_values, t_ms, measure FROM events
       WHERE key_values IN (SELECT jsonb_array_elements(${bind(JSON.stringify(keys))}::jsonb))`);
}

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
