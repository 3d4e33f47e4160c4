import { log } from '@temporalio/activity';
import {
  EXPECTATIONS,
  METRICS,
  type Expectation,
  type MetricDefinition,
} from '@tidemark/contracts';
import type { Knex } from 'knex';
import { CONSOLIDATION_WORK_MEM, eventRangeOf } from '../consolidation/final-metric-sql';
import { eventTimeFieldOf } from '../consolidation/quality-sql';
import {
  mergeTableRanges,
  snapshotFillSql,
  snapshotRelation,
  type SnapshotTable,
  type StateSnapshot,
  type TableRange,
} from '../consolidation/state-snapshot';
import { dayRange, selectMetrics } from './run';

export interface StateSnapshotDependencies {
  warehouse: Knex;
  metrics?: readonly MetricDefinition[];
  expectations?: readonly Expectation[];
}

/** What a backfill reads: its days, its metrics and the cutoff it reads as of. */
export interface BackfillStateRequest {
  backfillId: string;
  /** First and last day, yyyy-mm-dd. */
  from: string;
  to: string;
  /** Metric names; every metric when empty. */
  metrics: string[];
  asOf: string;
}

// Building a year's state may take longer than the worker's usual statement timeout.
const SNAPSHOT_STATEMENT_TIMEOUT = '1h';

/**
 * The tables and event ranges the days of a backfill read: each metric's event range around the
 * whole span of days, and the days themselves for the quality gate's tables with an event time.
 */
export function backfillTableRanges(
  request: Pick<BackfillStateRequest, 'from' | 'to' | 'metrics'>,
  metrics: readonly MetricDefinition[],
  expectations: readonly Expectation[],
): SnapshotTable[] {
  const selected = selectMetrics(request.metrics, metrics);
  const span = {
    start: dayRange(request.from, selected).rangeStart,
    end: dayRange(request.to, selected).rangeEnd,
  };
  const ranges: TableRange[] = selected.map((metric) => ({
    table: metric.source.table,
    eventTimeField: metric.eventTimeField,
    ...eventRangeOf(metric, span),
  }));
  for (const expectation of expectations) {
    if (!('table' in expectation) || expectation.kind === 'freshness') continue;
    const eventTimeField = eventTimeFieldOf(expectation.table);
    if (eventTimeField) {
      ranges.push({ table: expectation.table, eventTimeField, from: span.start, to: span.end });
    }
  }
  return mergeTableRanges(ranges);
}

/** The state snapshots of backfills, bound to their dependencies. */
export function createStateSnapshotActivities(deps: StateSnapshotDependencies) {
  const { warehouse } = deps;
  const metrics = deps.metrics ?? METRICS;
  const expectations = deps.expectations ?? EXPECTATIONS;

  /** The snapshot with this id if it is still there (a crash empties unlogged tables). */
  async function findSnapshot(snapshotId: number): Promise<StateSnapshot | undefined> {
    const header = await warehouse('final.state_snapshots')
      .where({ snapshot_id: snapshotId })
      .first('snapshot_id', 'cutoff', 'tables');
    if (!header) return undefined;
    const partition = await warehouse.raw('SELECT to_regclass(?) AS relation', [
      snapshotRelation(snapshotId),
    ]);
    if (partition.rows[0]?.relation === null) return undefined;
    return {
      snapshotId: Number(header.snapshot_id),
      cutoff: new Date(header.cutoff).toISOString(),
      tables: header.tables,
    };
  }

  /**
   * Drops the partitions left without their header: a crash of PostgreSQL empties both unlogged
   * tables but leaves the (empty) partitions behind.
   */
  async function dropOrphanPartitions(): Promise<void> {
    const partitions = await warehouse.raw<{ rows: { snapshot_id: string }[] }>(`
      SELECT substring(child.relname FROM '^state_snapshot_([0-9]+)$') AS snapshot_id
        FROM pg_inherits
        JOIN pg_class child ON child.oid = pg_inherits.inhrelid
       WHERE pg_inherits.inhparent = 'final.state_snapshot_rows'::regclass`);
    const ids = partitions.rows.map((row) => Number(row.snapshot_id)).filter(Number.isSafeInteger);
    if (ids.length === 0) return;
    const headers = await warehouse('final.state_snapshots')
      .whereIn('snapshot_id', ids)
      .pluck('snapshot_id');
    const kept = new Set(headers.map(Number));
    for (const id of ids.filter((candidate) => !kept.has(candidate))) {
      await warehouse.raw(`DROP TABLE IF EXISTS ${snapshotRelation(id)}`);
    }
  }

  return {
    findSnapshot,

    /**
     * Rebuilds, once, the state the backfill's days read: every table's latest versions as of
     * the backfill's cutoff over the event ranges of all its days, indexed by event time. A
     * retry, or a backfill re-run with the same id and cutoff, finds the snapshot already built.
     */
    async prepareBackfillState(request: BackfillStateRequest): Promise<StateSnapshot> {
      const tables = backfillTableRanges(request, metrics, expectations);
      const cutoff = new Date(request.asOf);
      const built = await warehouse('final.state_snapshots')
        .where({ backfill_id: request.backfillId, cutoff })
        .whereRaw('tables = ?::jsonb', [JSON.stringify(tables)])
        .orderBy('snapshot_id', 'desc')
        .first('snapshot_id');
      const found = built ? await findSnapshot(Number(built.snapshot_id)) : undefined;
      if (found) return found;
      await dropOrphanPartitions();
      const startedAt = Date.now();
      const snapshot = await warehouse.transaction(async (trx) => {
        await trx.raw(`SET LOCAL work_mem = '${CONSOLIDATION_WORK_MEM}'`);
        await trx.raw('SET LOCAL jit = off');
        await trx.raw(`SET LOCAL statement_timeout = '${SNAPSHOT_STATEMENT_TIMEOUT}'`);
        const [header] = await trx('final.state_snapshots')
          .insert({
            backfill_id: request.backfillId,
            cutoff,
            tables: JSON.stringify(tables),
            rows: 0,
          })
          .returning('snapshot_id');
        const snapshotId = Number(header.snapshot_id);
        const relation = snapshotRelation(snapshotId);
        await trx.raw(
          `CREATE UNLOGGED TABLE ${relation} PARTITION OF final.state_snapshot_rows FOR VALUES IN (${snapshotId})`,
        );
        let rows = 0;
        for (const part of tables) {
          const { sql, bindings } = snapshotFillSql(snapshotId, part, cutoff);
          rows += (await trx.raw(sql, bindings)).rowCount as number;
        }
        // Built after the rows: a day reads its slice by event time, the gate its parents by key.
        await trx.raw(`CREATE INDEX ON ${relation} (source_table, t_ms)`);
        await trx.raw(`CREATE INDEX ON ${relation} USING hash (primary_key)`);
        await trx.raw(`ANALYZE ${relation}`);
        await trx('final.state_snapshots').where({ snapshot_id: snapshotId }).update({ rows });
        return { snapshotId, cutoff: cutoff.toISOString(), tables, rows };
      });
      log.info('backfill state snapshot built', {
        backfillId: request.backfillId,
        snapshotId: snapshot.snapshotId,
        rows: snapshot.rows,
        ms: Date.now() - startedAt,
      });
      return { snapshotId: snapshot.snapshotId, cutoff: snapshot.cutoff, tables };
    },

    /** Drops a backfill's snapshot (idempotent). */
    async releaseBackfillState(snapshotId: number): Promise<void> {
      await warehouse.transaction(async (trx) => {
        await trx.raw(`DROP TABLE IF EXISTS ${snapshotRelation(snapshotId)}`);
        await trx('final.state_snapshots').where({ snapshot_id: snapshotId }).delete();
      });
    },
  };
}

export type StateSnapshotActivities = Omit<
  ReturnType<typeof createStateSnapshotActivities>,
  'findSnapshot'
>;
