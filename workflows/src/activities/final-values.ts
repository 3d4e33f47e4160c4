import { METRICS, type MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { finalMetricSql } from '../consolidation/final-metric-sql';
import { selectMetrics, type ConsolidationRun } from './run';

export interface FinalValueDependencies {
  warehouse: Knex;
  metrics?: readonly MetricDefinition[];
}

/** Computing a run's final values, bound to its dependencies. */
export function createFinalValueActivities(deps: FinalValueDependencies) {
  const { warehouse } = deps;
  const metrics = deps.metrics ?? METRICS;

  return {
    /** Computes the run's metrics' final values for its range into its staging rows. */
    async computeFinalValues(run: ConsolidationRun): Promise<{ values: number }> {
      const range = {
        start: new Date(run.rangeStart),
        end: new Date(run.rangeEnd),
        cutoff: new Date(run.cutoff),
      };
      return warehouse.transaction(async (trx) => {
        await trx('final.staged_values').where({ run_id: run.runId }).delete();
        let values = 0;
        for (const metric of selectMetrics(run.metrics, metrics)) {
          const { sql, bindings } = finalMetricSql(metric, range);
          const result = await trx.raw(
            `INSERT INTO final.staged_values (run_id, metric, window_start, window_end, key_values, value, rows)
             SELECT ?, ?, window_start, window_end, key_values, value, rows FROM (${sql}) computed`,
            [run.runId, metric.name, ...bindings],
          );
          values += (result as { rowCount: number }).rowCount;
        }
        return { values };
      });
    },
  };
}

export type FinalValueActivities = ReturnType<typeof createFinalValueActivities>;
