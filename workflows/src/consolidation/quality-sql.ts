import { currentContract, type Expectation } from '@tidemark/contracts';
import { snapshotCovers, tableRangeStateSql, type StateSnapshot } from './state-snapshot';
import { binder, tableStateSql, type Bind, type SqlStatement } from './final-metric-sql';

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

/** The day a quality gate checks: the rows with an event time in [from, to), as of the cutoff. */
export interface QualityScope {
  from: Date;
  to: Date;
  cutoff: Date;
  /** A backfill's state snapshot: the day's rows are read from it where it covers them. */
  snapshot?: StateSnapshot;
}

/** The event-time field of a captured table, from its current contract. */
export function eventTimeFieldOf(table: string): string | undefined {
  return currentContract(table)?.eventTimeField;
}

/** Inlines a statement's placeholders as binder tokens. */
function inline(sql: SqlStatement, bind: Bind): string {
  const bindings = [...sql.bindings];
  return sql.sql.replace(/\?/g, () => bind(bindings.shift() as SqlStatement['bindings'][number]));
}

/**
 * The rows of a table the day's metrics read, as of the cutoff: event time in the scope's day
 * (yields `row`, and `t_ms`). A table without a contract has no event time: its whole state.
 */
export function dayStateSql(table: string, scope: QualityScope): SqlStatement {
  const eventTimeField = eventTimeFieldOf(table);
  return eventTimeField
    ? tableRangeStateSql({ table, eventTimeField, ...scope }, scope.snapshot)
    : tableStateSql(table, scope.cutoff);
}

/** Tables whose day state is already materialised (see dayStateSql), by table: the relation. */
export type MaterialisedDayStates = ReadonlyMap<string, string>;

const RELATION = /^[a-z_][a-z0-9_]*$/;

function dayState(
  table: string,
  scope: QualityScope,
  bind: Bind,
  materialised: MaterialisedDayStates | undefined,
): string {
  const relation = materialised?.get(table);
  if (relation === undefined) return inline(dayStateSql(table, scope), bind);
  if (!RELATION.test(relation)) throw new Error(`not a relation name: "${relation}"`);
  return `SELECT row FROM "${relation}"`;
}

/**
 * The SQL checking an expectation over the day's rows (event time in the day, state as of the
 * cutoff), read from `materialised` where given; yields one row with `passed` (boolean) and
 * `observed` (jsonb, what was counted).
 */
export function expectationSql(
  expectation: WarehouseExpectation,
  scope: QualityScope,
  materialised?: MaterialisedDayStates,
): SqlStatement {
  const { bind, statement } = binder();
  switch (expectation.kind) {
    case 'not_null': {
      const counts = expectation.fields
        .map(
          (field) => `${bind(field)}::text, count(*) FILTER (WHERE row ->> ${bind(field)} IS NULL)`,
        )
        .join(', ');
      return statement(`
        WITH state AS (${dayState(expectation.table, scope, bind, materialised)}),
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
        WITH state AS (${dayState(expectation.table, scope, bind, materialised)}),
        counted AS (
          SELECT count(*) AS rows,
                 count(*) FILTER (WHERE ${outside.join(' OR ') || 'false'}) AS outside
            FROM state)
        SELECT jsonb_build_object('rows', rows, 'outside', outside) AS observed,
               outside = 0 AS passed
          FROM counted`);
    }
    case 'references':
      return statement(referencesSql(expectation, scope, bind, materialised));
    case 'freshness':
      return statement(`
        WITH latest AS (
          SELECT max(committed_at) AS at
            FROM raw.change_events
           WHERE source_table = ${bind(expectation.table)} AND committed_at <= ${bind(scope.cutoff)})
        SELECT jsonb_build_object('latest_commit', at, 'max_lag_ms', ${bind(expectation.maxLagMs)}::bigint)
                 AS observed,
               COALESCE(at >= ${bind(scope.cutoff)}::timestamptz - make_interval(secs => ${bind(expectation.maxLagMs / 1000)}), false)
                 AS passed
          FROM latest`);
  }
}

/**
 * The day's child rows against their parents' latest versions as of the cutoff. When the
 * referenced field is the parent's primary key, only the referenced parents are read: those
 * changed since the day began from the day's partitions, the others by key from older ones.
 * Otherwise the parent table's whole state is rebuilt.
 */
function referencesSql(
  expectation: Extract<Expectation, { kind: 'references' }>,
  scope: QualityScope,
  bind: Bind,
  materialised: MaterialisedDayStates | undefined,
): string {
  const child = dayState(expectation.table, scope, bind, materialised);
  const reference = `child.row -> ${bind(expectation.field)}`;
  // A join, not NOT EXISTS per child row: a correlated subquery would re-read the parents for
  // every child.
  const counted = (parents: string) => `
        counted AS (
          SELECT count(*) AS rows, count(*) FILTER (WHERE parent.ref IS NULL) AS orphans
            FROM child
            LEFT JOIN (SELECT DISTINCT ref FROM ${parents}) parent ON parent.ref = ${reference})
        SELECT jsonb_build_object('rows', rows, 'orphans', orphans) AS observed,
               orphans = 0 AS passed
          FROM counted`;
  const parentKey = currentContract(expectation.referencedTable)?.primaryKey;
  if (parentKey?.length !== 1 || parentKey[0] !== expectation.referencedField) {
    const parentState = inline(tableStateSql(expectation.referencedTable, scope.cutoff), bind);
    return `
        WITH child AS (${child}),
        parents AS (
          SELECT row -> ${bind(expectation.referencedField)} AS ref FROM (${parentState}) state
        ),${counted('parents')}`;
  }
  const parent = bind(expectation.referencedTable);
  const keyField = bind(expectation.referencedField);
  const from = bind(scope.from);
  const cutoff = bind(scope.cutoff);
  // The day's children, the parent keys they reference, and the parent table's last truncate.
  const head = `
        WITH child AS (${child}),
        refs AS (
          SELECT DISTINCT jsonb_build_object(${keyField}::text, ${reference}) AS primary_key
            FROM child
           WHERE ${reference} IS NOT NULL
        ), truncated AS (
          SELECT max(committed_at) AS at
            FROM raw.change_events
           WHERE source_table = ${parent} AND committed_at <= ${cutoff} AND op = 't'
        )`;
  const parentTimeField = eventTimeFieldOf(expectation.referencedTable);
  if (
    scope.snapshot &&
    parentTimeField &&
    snapshotCovers(scope.snapshot, {
      table: expectation.referencedTable,
      eventTimeField: parentTimeField,
      from: scope.from,
      to: scope.to,
      cutoff: scope.cutoff,
    })
  ) {
    // A backfill's snapshot holds the latest version as of the cutoff of every parent with an
    // event time in its range, so a parent found there exists; the others are looked up by key,
    // whatever their latest version's partition, without reading the changes of every day since.
    const snapshotId = bind(scope.snapshot.snapshotId);
    return `${head}, in_snapshot AS (
          SELECT DISTINCT refs.primary_key
            FROM refs
            JOIN final.state_snapshot_rows snapshot
              ON snapshot.snapshot_id = ${snapshotId} AND snapshot.source_table = ${parent}
             AND snapshot.primary_key = refs.primary_key
        ), elsewhere AS (
          SELECT refs.primary_key
            FROM refs
            CROSS JOIN LATERAL (
              SELECT op, committed_at
                FROM raw.change_events
               WHERE source_table = ${parent} AND primary_key = refs.primary_key
                 AND committed_at <= ${cutoff} AND op <> 't'
               ORDER BY lsn DESC
               LIMIT 1) last, truncated
           WHERE NOT EXISTS (SELECT 1 FROM in_snapshot WHERE in_snapshot.primary_key = refs.primary_key)
             AND last.op <> 'd' AND (truncated.at IS NULL OR last.committed_at > truncated.at)
        ), parents AS (
          SELECT primary_key -> ${keyField} AS ref
            FROM (SELECT primary_key FROM in_snapshot UNION ALL SELECT primary_key FROM elsewhere) found
        ),${counted('parents')}`;
  }
  return `${head}, recent AS (
          SELECT DISTINCT ON (jsonb_hash(primary_key), primary_key) primary_key, op, committed_at
            FROM raw.change_events
           WHERE source_table = ${parent} AND committed_at >= ${from} AND committed_at <= ${cutoff}
             AND op <> 't' AND primary_key IN (SELECT primary_key FROM refs)
           ORDER BY jsonb_hash(primary_key), primary_key, lsn DESC
        ), older AS (
          SELECT refs.primary_key, last.op, last.committed_at
            FROM refs
            CROSS JOIN LATERAL (
              SELECT op, committed_at
                FROM raw.change_events
               WHERE source_table = ${parent} AND primary_key = refs.primary_key
                 AND committed_at < ${from} AND op <> 't'
               ORDER BY lsn DESC
               LIMIT 1) last
           WHERE NOT EXISTS (SELECT 1 FROM recent WHERE recent.primary_key = refs.primary_key)
        ), parents AS (
          SELECT versions.primary_key -> ${keyField} AS ref
            FROM (SELECT * FROM recent UNION ALL SELECT * FROM older) versions, truncated
           WHERE versions.op <> 'd' AND (truncated.at IS NULL OR versions.committed_at > truncated.at)
        ),${counted('parents')}`;
}

/**
 * The table's current state (every change landed so far) of the rows with an event time in the
 * scope's day, and the table's unreplayed dead letters: the distinct rows they carry whose event
 * time is in the day, and the letters whose bytes are not JSON or whose row's event time does not
 * parse (attributable to no day). Yields `landed`, `dead_lettered` and `unattributed`. With a
 * backfill's snapshot covering the day, `landed` is what had landed at the backfill's start.
 */
export function landedRowCountSql(
  table: string,
  scope: Pick<QualityScope, 'from' | 'to'> & Partial<Pick<QualityScope, 'cutoff' | 'snapshot'>>,
): SqlStatement {
  const { bind, statement } = binder();
  const eventTimeField = eventTimeFieldOf(table) ?? 'created_at';
  const keyFields = currentContract(table)?.primaryKey ?? ['id'];
  const fromSnapshot =
    scope.snapshot &&
    scope.cutoff &&
    snapshotCovers(scope.snapshot, {
      table,
      eventTimeField,
      from: scope.from,
      to: scope.to,
      cutoff: scope.cutoff,
    });
  // A backfill counts what had landed when it started (its snapshot), not every day again
  // from the changelog since that day. Otherwise only the key, operation and event time of
  // each change travel through the sort.
  const state = fromSnapshot
    ? `
      SELECT 1 FROM final.state_snapshot_rows
       WHERE snapshot_id = ${bind(scope.snapshot?.snapshotId ?? 0)} AND source_table = ${bind(table)}
         AND t_ms >= ${bind(scope.from.getTime())} AND t_ms < ${bind(scope.to.getTime())}`
    : `
      WITH latest AS (
        SELECT DISTINCT ON (jsonb_hash(primary_key), primary_key) op, committed_at,
               floor(extract(epoch FROM (after ->> ${bind(eventTimeField)})::timestamptz) * 1000)::bigint
                 AS t_ms
          FROM raw.change_events
         WHERE source_table = ${bind(table)} AND committed_at >= ${bind(scope.from)} AND op <> 't'
         ORDER BY jsonb_hash(primary_key), primary_key, lsn DESC
      ), truncated AS (
        SELECT max(committed_at) AS at
          FROM raw.change_events
         WHERE source_table = ${bind(table)} AND op = 't'
      )
      SELECT 1
        FROM latest, truncated
       WHERE latest.op <> 'd' AND (truncated.at IS NULL OR latest.committed_at > truncated.at)
         AND t_ms >= ${bind(scope.from.getTime())} AND t_ms < ${bind(scope.to.getTime())}`;
  const key = `jsonb_build_array(${keyFields.map((field) => `after -> ${bind(field)}`).join(', ')})`;
  const eventTime = `ops.try_timestamptz(after ->> ${bind(eventTimeField)})`;
  return statement(`
    WITH state AS (${state}),
    letters AS (
      SELECT document, COALESCE(document -> 'payload', document) -> 'after' AS after
        FROM (SELECT ops.try_jsonb(raw) AS document
                FROM ops.dead_letters
               WHERE kafka_topic LIKE ${bind(`%.${table}`)} AND replayed_at IS NULL) unreplayed
    )
    SELECT (SELECT count(*) FROM state) AS landed,
           (SELECT count(DISTINCT ${key}) FROM letters
             WHERE ${eventTime} >= ${bind(scope.from)} AND ${eventTime} < ${bind(scope.to)})
             AS dead_lettered,
           (SELECT count(*) FROM letters
             WHERE document IS NULL OR (jsonb_typeof(after) = 'object' AND ${eventTime} IS NULL))
             AS unattributed`);
}
