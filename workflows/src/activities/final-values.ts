import { METRICS, type MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import {
  CONSOLIDATION_WORK_MEM,
  eventRangeOf,
  finalMetricSql,
  type ConsolidationRange,
} from '../consolidation/final-metric-sql';
import { mergeTableRanges, tableRangeStateSql } from '../consolidation/state-snapshot';
import { selectMetrics, type ConsolidationRun } from './run';

export interface FinalValueDependencies {
  warehouse: Knex;
  metrics?: readonly MetricDefinition[];
}

/** One source table's rebuilt state, shared by the run's metrics over that table. */
interface TableState {
  relation: string;
  table: string;
  eventTimeField: string;
  from: Date;
  to: Date;
}

/**
 * The tables the metrics read, each with the union of the metrics' event ranges: the state of
 * each is rebuilt once per run.
 */
export function tableStatesOf(
  metrics: readonly MetricDefinition[],
  range: ConsolidationRange,
): TableState[] {
  const parts = mergeTableRanges(
    metrics.map((metric) => ({
      table: metric.source.table,
      eventTimeField: metric.eventTimeField,
      ...eventRangeOf(metric, range),
    })),
  );
  return parts.map((part, index) => ({
    relation: `consolidation_state_${index}`,
    table: part.table,
    eventTimeField: part.eventTimeField,
    from: new Date(part.from),
    to: new Date(part.to),
  }));
}

/** Computing a run's final values, bound to its dependencies. */
export function createFinalValueActivities(deps: FinalValueDependencies) {
  const { warehouse } = deps;
  const metrics = deps.metrics ?? METRICS;

  return {
    /**
     * Computes the run's metrics' final values for its range into its staging rows. Each source
     * table's state is rebuilt once into a temporary table (or sliced from the backfill's
     * snapshot), which its metrics then aggregate.
     */
    async computeFinalValues(run: ConsolidationRun): Promise<{ values: number }> {
      const range = {
        start: new Date(run.rangeStart),
        end: new Date(run.rangeEnd),
        cutoff: new Date(run.cutoff),
      };
      const selected = selectMetrics(run.metrics, metrics);
      return warehouse.transaction(async (trx) => {
        await trx.raw(`SET LOCAL work_mem = '${CONSOLIDATION_WORK_MEM}'`);
        // Compiling each statement costs more than it saves on queries of this size.
        await trx.raw('SET LOCAL jit = off');
        await trx('final.staged_values').where({ run_id: run.runId }).delete();
        const states = tableStatesOf(selected, range);
        for (const state of states) {
          const { sql, bindings } = tableRangeStateSql(
            { ...state, cutoff: range.cutoff },
            run.snapshot,
          );
          await trx.raw(`CREATE TEMPORARY TABLE ?? ON COMMIT DROP AS ${sql}`, [
            state.relation,
            ...bindings,
          ]);
          await trx.raw('ANALYZE ??', [state.relation]);
        }
        let values = 0;
        for (const metric of selected) {
          const state = states.find((candidate) => candidate.table === metric.source.table);
          const { sql, bindings } = finalMetricSql(metric, range, state);
          // In the staging key's order: the index grows at its edge instead of splitting pages.
          const result = await trx.raw(
            `INSERT INTO final.staged_values (run_id, metric, window_start, window_end, key_values, value, rows)
             SELECT ?, ?, window_start, window_end, key_values, value, rows FROM (${sql}) computed
              ORDER BY window_start, window_end, key_values`,
            [run.runId, metric.name, ...bindings],
          );
          values += (result as { rowCount: number }).rowCount;
        }
        // Dropped now, not only at commit: the caller's transaction may be longer than this one.
        for (const state of states) await trx.raw('DROP TABLE ??', [state.relation]);
        return { values };
      });
    },
  };
}

export type FinalValueActivities = ReturnType<typeof createFinalValueActivities>;
