import type { Expectation } from '@tidemark/contracts';
import { binder, tableStateSql, type SqlStatement } from './final-metric-sql';

/** Expectations checked by one SQL statement over the warehouse alone. */
export type WarehouseExpectation = Extract<
  Expectation,
  { kind: 'not_null' | 'range' | 'references' | 'freshness' }
>;

export function isWarehouseExpectation(
  expectation: Expectation,
): expectation is WarehouseExpectation {
  return ['not_null', 'range', 'references', 'freshness'].includes(expectation.kind);
}

/**
 * The SQL checking an expectation over the tables' state as of the cutoff; yields one row with
 * `passed` (boolean) and `observed` (jsonb, what was counted).
 */
export function expectationSql(expectation: WarehouseExpectation, cutoff: Date): SqlStatement {
  const { bind, statement } = binder();
  const state = (table: string) => {
    const sql = tableStateSql(table, cutoff);
    return sql.sql.replace(/\?/g, () => bind(sql.bindings.shift() as string | Date));
  };
  switch (expectation.kind) {
    case 'not_null': {
      const counts = expectation.fields
        .map(
          (field) => `${bind(field)}::text, count(*) FILTER (WHERE row ->> ${bind(field)} IS NULL)`,
        )
        .join(', ');
      return statement(`
        WITH state AS (${state(expectation.table)}),
        counted AS (SELECT jsonb_build_object(${counts}) AS nulls, count(*) AS rows FROM state)
        SELECT jsonb_build_object('rows', rows, 'nulls', nulls) AS observed,
               NOT EXISTS (SELECT 1 FROM jsonb_each_text(nulls) WHERE value::bigint > 0) AS passed
          FROM counted`);
    }
    case 'range': {
      const value = `(row ->> ${bind(expectation.field)})::numeric`;
      const outside = [
        expectation.min === undefined ? undefined : `${value} < ${bind(expectation.min)}`,
        expectation.max === undefined ? undefined : `${value} > ${bind(expectation.max)}`,
      ].filter((clause) => clause !== undefined);
      return statement(`
        WITH state AS (${state(expectation.table)}),
        counted AS (
          SELECT count(*) AS rows,
                 count(*) FILTER (WHERE ${outside.join(' OR ') || 'false'}) AS outside
            FROM state)
        SELECT jsonb_build_object('rows', rows, 'outside', outside) AS observed,
               outside = 0 AS passed
          FROM counted`);
    }
    case 'references':
      return statement(`
        WITH child AS (${state(expectation.table)}),
        parent AS (${state(expectation.referencedTable)}),
        counted AS (
          SELECT count(*) AS rows,
                 count(*) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM parent
                    WHERE parent.row ->> ${bind(expectation.referencedField)}
                        = child.row ->> ${bind(expectation.field)})) AS orphans
            FROM child)
        SELECT jsonb_build_object('rows', rows, 'orphans', orphans) AS observed,
               orphans = 0 AS passed
          FROM counted`);
    case 'freshness':
      return statement(`
        WITH latest AS (
          SELECT max(committed_at) AS at
            FROM raw.change_events
           WHERE source_table = ${bind(expectation.table)} AND committed_at <= ${bind(cutoff)})
        SELECT jsonb_build_object('latest_commit', at, 'max_lag_ms', ${bind(expectation.maxLagMs)}::bigint)
                 AS observed,
               COALESCE(at >= ${bind(cutoff)}::timestamptz - make_interval(secs => ${bind(expectation.maxLagMs / 1000)}), false)
                 AS passed
          FROM latest`);
  }
}

/** Rows of the table's state as of now, to hold against the source table's count. */
export function landedRowCountSql(table: string): SqlStatement {
  const { bind, statement } = binder();
  const sql = tableStateSql(table, new Date('9999-12-31T00:00:00Z'));
  const state = sql.sql.replace(/\?/g, () => bind(sql.bindings.shift() as string | Date));
  return statement(`
    WITH state AS (${state})
    SELECT count(*) AS landed,
           (SELECT count(DISTINCT convert_from(raw, 'UTF8')::jsonb -> 'after' ->> 'id')
              FROM ops.dead_letters
             WHERE kafka_topic LIKE ${bind(`%.${table}`)} AND replayed_at IS NULL) AS dead_lettered
      FROM state`);
}
