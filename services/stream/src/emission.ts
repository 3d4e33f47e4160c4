import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';

/**
 * The emit policies in one place: when a provisional value is (re)computed from its window's
 * accumulator and published with a new revision, and when a window closes. Decisions are pure;
 * the SQL they give is applied by the sink's statements, which hold no rule of their own.
 *
 * - `on_update`: a window's value is emitted by the very statement that writes its accumulator.
 * - `every`: written accumulators are pending, and every pending value is emitted each interval.
 * - `on_window_close`: pending values are emitted once the watermark passes their window's end.
 * - Any policy: a window past its allowed lateness is closed, after a last emission of anything
 *   pending.
 */

/** A piece of SQL and the values bound to its `?` placeholders, in order. */
export interface SqlFragment {
  sql: string;
  bindings: readonly (string | number)[];
}

/** The columns of `provisional.metric_values` that say what was emitted. */
export const EMISSION_COLUMNS = ['value', 'revision', 'pending', 'emitted_at'] as const;
export type EmissionColumns = Record<(typeof EMISSION_COLUMNS)[number], SqlFragment>;

const sql = (text: string, ...bindings: (string | number)[]): SqlFragment => ({
  sql: text,
  bindings,
});

/** Whether writing a window's accumulator emits its value at once. */
export function emitsOnWrite(metric: MetricDefinition): boolean {
  return metric.emit.kind === 'on_update';
}

/**
 * The emission columns of a new provisional row with this accumulator: emitted at once under
 * `on_update` (revision 1), pending otherwise (no value yet, revision 0).
 */
export function emissionOfNewRow(
  metric: MetricDefinition,
  accumulator: SqlFragment,
): EmissionColumns {
  if (!emitsOnWrite(metric)) {
    return {
      value: sql('NULL::numeric'),
      revision: sql('0'),
      pending: sql('true'),
      emitted_at: sql('NULL::timestamptz'),
    };
  }
  return { ...emitted(metric, accumulator), revision: sql('1') };
}

/**
 * What changes in the emission columns of a provisional row whose accumulator is replaced by
 * `accumulator`: under `on_update` the value is emitted with the revision one past
 * `revisionSql` (the row's current one); otherwise the row is pending and keeps its last value.
 */
export function emissionOfUpdatedRow(
  metric: MetricDefinition,
  accumulator: SqlFragment,
  revisionSql: string,
): Partial<EmissionColumns> {
  if (!emitsOnWrite(metric)) return { pending: sql('true') };
  return { ...emitted(metric, accumulator), revision: sql(`${revisionSql} + 1`) };
}

function emitted(metric: MetricDefinition, accumulator: SqlFragment) {
  return {
    value: sql(
      `stream.accumulator_value(?, ${accumulator.sql})`,
      metric.aggregate.fn,
      ...accumulator.bindings,
    ),
    pending: sql('false'),
    emitted_at: sql('clock_timestamp()'),
  };
}

/** Columns as an SQL select list, in `EMISSION_COLUMNS` order. */
export function asSelectList(columns: EmissionColumns): SqlFragment {
  return joined(EMISSION_COLUMNS.map((column) => columns[column]));
}

/** Columns as the assignments of an UPDATE (or ON CONFLICT DO UPDATE) SET clause. */
export function asAssignments(columns: Partial<EmissionColumns>): SqlFragment {
  return joined(
    EMISSION_COLUMNS.flatMap((column) => {
      const fragment = columns[column];
      return fragment ? [{ ...fragment, sql: `${column} = ${fragment.sql}` }] : [];
    }),
  );
}

function joined(fragments: readonly SqlFragment[]): SqlFragment {
  return {
    sql: fragments.map((fragment) => fragment.sql).join(', '),
    bindings: fragments.flatMap((fragment) => fragment.bindings),
  };
}

/** The emission of a pending row: its value from its stored accumulator, a new revision. */
export function emissionOfPending(metric: MetricDefinition): EmissionColumns {
  return {
    value: sql('stream.accumulator_value(?, accumulator)', metric.aggregate.fn),
    revision: sql('revision + 1'),
    pending: sql('false'),
    emitted_at: sql('clock_timestamp()'),
  };
}

/**
 * Which pending rows of a metric are due now: all of them, those of windows ended by a time,
 * or none.
 */
export type PendingDue = { kind: 'all' } | { kind: 'ended_by'; endMs: number } | { kind: 'none' };

/**
 * The pending rows to emit at a tick, given the metric's watermark (null before it is known)
 * and whether its `every` interval is due. Rows of windows about to close are always due, so a
 * window never closes with a value it did not emit.
 */
export function pendingDue(
  metric: MetricDefinition,
  watermarkMs: number | null,
  intervalDue: boolean,
): PendingDue {
  const { emit } = metric;
  if (emit.kind === 'on_update') return { kind: 'all' };
  if (emit.kind === 'every' && intervalDue) return { kind: 'all' };
  if (watermarkMs === null) return { kind: 'none' };
  if (emit.kind === 'on_window_close') return { kind: 'ended_by', endMs: watermarkMs };
  return { kind: 'ended_by', endMs: watermarkMs - metric.allowedLatenessMs };
}

/** Windows ending at or before this time are closed: the watermark less the allowed lateness. */
export function closingBoundary(
  metric: MetricDefinition,
  watermarkMs: number | null,
): number | null {
  return watermarkMs === null ? null : watermarkMs - metric.allowedLatenessMs;
}

/** Emission columns as knex values for an insert or an update. */
export function asKnexColumns(
  trx: Knex.Transaction,
  columns: Partial<EmissionColumns>,
): Record<string, Knex.Raw> {
  return Object.fromEntries(
    Object.entries(columns).map(([column, fragment]) => [
      column,
      trx.raw(fragment.sql, [...fragment.bindings]),
    ]),
  );
}
