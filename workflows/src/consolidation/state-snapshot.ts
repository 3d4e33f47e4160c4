import { eventRangeStateSql, type SqlStatement } from './final-metric-sql';

/**
 * A source table's part of a state snapshot: its latest versions as of the snapshot's cutoff
 * with an event time in [from, to) (ISO instants: the snapshot travels in workflow inputs).
 */
export interface SnapshotTable {
  table: string;
  eventTimeField: string;
  from: string;
  to: string;
}

/**
 * The source tables' state as of a backfill's cutoff, rebuilt once for all of its days (see
 * migration 0012). A day reads its slices instead of rebuilding from the changelog.
 */
export interface StateSnapshot {
  snapshotId: number;
  cutoff: string;
  tables: SnapshotTable[];
}

/** A table's event range wanted by some reader. */
export interface TableRange {
  table: string;
  eventTimeField: string;
  from: Date;
  to: Date;
}

/** The union of the ranges wanted per table; tables of one name must agree on the event time. */
export function mergeTableRanges(ranges: readonly TableRange[]): SnapshotTable[] {
  const merged = new Map<string, TableRange>();
  for (const range of ranges) {
    const known = merged.get(range.table);
    if (known && known.eventTimeField !== range.eventTimeField) {
      throw new Error(
        `${range.table} is read with two event-time fields: ${known.eventTimeField}, ${range.eventTimeField}`,
      );
    }
    merged.set(range.table, {
      ...range,
      from: known && known.from < range.from ? known.from : range.from,
      to: known && known.to > range.to ? known.to : range.to,
    });
  }
  return [...merged.values()]
    .sort((a, b) => a.table.localeCompare(b.table))
    .map((range) => ({
      table: range.table,
      eventTimeField: range.eventTimeField,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
    }));
}

/** The partition holding a snapshot's rows: named from its integer id only. */
export function snapshotRelation(snapshotId: number): string {
  if (!Number.isSafeInteger(snapshotId) || snapshotId <= 0) {
    throw new Error(`not a snapshot id: ${snapshotId}`);
  }
  return `final.state_snapshot_${snapshotId}`;
}

/**
 * Whether the snapshot holds the table's state over [from, to) as of the cutoff: the same
 * event-time field, and a range covering the one wanted.
 */
export function snapshotCovers(
  snapshot: StateSnapshot | undefined,
  wanted: { table: string; eventTimeField: string; from: Date; to: Date; cutoff: Date },
): boolean {
  if (!snapshot || new Date(snapshot.cutoff).getTime() !== wanted.cutoff.getTime()) return false;
  const part = snapshot.tables.find((candidate) => candidate.table === wanted.table);
  return (
    part !== undefined &&
    part.eventTimeField === wanted.eventTimeField &&
    new Date(part.from).getTime() <= wanted.from.getTime() &&
    new Date(part.to).getTime() >= wanted.to.getTime()
  );
}

/**
 * A table's state as of the cutoff with an event time in [from, to), yielding `row` and `t_ms`:
 * a slice of the snapshot when it covers them, rebuilt from the changelog otherwise.
 */
export function tableRangeStateSql(
  wanted: { table: string; eventTimeField: string; from: Date; to: Date; cutoff: Date },
  snapshot?: StateSnapshot,
): SqlStatement {
  if (snapshot && snapshotCovers(snapshot, wanted)) {
    return {
      sql: `SELECT row, t_ms FROM final.state_snapshot_rows
             WHERE snapshot_id = ? AND source_table = ? AND t_ms >= ? AND t_ms < ?`,
      bindings: [snapshot.snapshotId, wanted.table, wanted.from.getTime(), wanted.to.getTime()],
    };
  }
  return eventRangeStateSql(
    wanted.table,
    wanted.eventTimeField,
    wanted.from,
    wanted.to,
    wanted.cutoff,
  );
}

/** The statement filling a snapshot's partition with one table's part of it. */
export function snapshotFillSql(
  snapshotId: number,
  part: SnapshotTable,
  cutoff: Date,
): SqlStatement {
  const state = eventRangeStateSql(
    part.table,
    part.eventTimeField,
    new Date(part.from),
    new Date(part.to),
    cutoff,
    { withKey: true },
  );
  return {
    sql: `INSERT INTO ${snapshotRelation(snapshotId)} (snapshot_id, source_table, t_ms, primary_key, row)
          SELECT ?, ?, t_ms, primary_key, row FROM (${state.sql}) state`,
    bindings: [snapshotId, part.table, ...state.bindings],
  };
}
