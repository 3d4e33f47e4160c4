import { ApplicationFailure } from '@temporalio/activity';
import { METRICS, type Expectation, type MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { finalMetricSql } from '../consolidation/final-metric-sql';
import {
  causeOf,
  RECONCILIATION_CAUSES,
  type ReconciliationCause,
} from '../consolidation/reconcile';
import { createQualityGateActivities } from './quality-gate';

export type { QualityOutcome } from './quality-gate';

export interface ConsolidationDependencies {
  warehouse: Knex;
  /** The source database, read-only, for row counts. */
  source: Knex;
  /** The stream pipeline whose provisional values are reconciled against the final ones. */
  pipeline: string;
  metrics?: readonly MetricDefinition[];
  expectations?: readonly Expectation[];
}

/** One consolidation run, as the workflow carries it between activities (plain JSON). */
export interface ConsolidationRun {
  runId: string;
  day: string;
  rangeStart: string;
  rangeEnd: string;
  cutoff: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The range and cutoff of a day: the whole UTC day, complete once its allowed lateness passed. */
export function dayRange(
  day: string,
  metrics: readonly MetricDefinition[],
  asOf?: string,
): { rangeStart: Date; rangeEnd: Date; cutoff: Date } {
  const rangeStart = new Date(`${day}T00:00:00Z`);
  if (!DAY.test(day) || Number.isNaN(rangeStart.getTime())) {
    throw ApplicationFailure.nonRetryable(`not a day: "${day}" (expected yyyy-mm-dd)`, 'BAD_INPUT');
  }
  const rangeEnd = new Date(rangeStart.getTime() + DAY_MS);
  const lateness = Math.max(0, ...metrics.map((metric) => metric.allowedLatenessMs));
  const cutoff = asOf ? new Date(asOf) : new Date(rangeEnd.getTime() + lateness);
  if (Number.isNaN(cutoff.getTime())) {
    throw ApplicationFailure.nonRetryable(`not a time: "${asOf}"`, 'BAD_INPUT');
  }
  return { rangeStart, rangeEnd, cutoff };
}

/** The activities of the nightly consolidation, bound to their dependencies. */
export function createConsolidationActivities(deps: ConsolidationDependencies) {
  const { warehouse, pipeline } = deps;
  const metrics = deps.metrics ?? METRICS;

  return {
    ...createQualityGateActivities(deps),

    /** Records a run (idempotent for a workflow retry) and returns its range and cutoff. */
    async startConsolidation(input: {
      runId: string;
      workflowId: string;
      day: string;
      asOf?: string;
      reason: string;
    }): Promise<ConsolidationRun> {
      const { rangeStart, rangeEnd, cutoff } = dayRange(input.day, metrics, input.asOf);
      await warehouse('final.runs')
        .insert({
          run_id: input.runId,
          workflow_id: input.workflowId,
          day: input.day,
          range_start: rangeStart,
          range_end: rangeEnd,
          cutoff,
          reason: input.reason,
          status: 'computing',
        })
        .onConflict('run_id')
        .ignore();
      return {
        runId: input.runId,
        day: input.day,
        rangeStart: rangeStart.toISOString(),
        rangeEnd: rangeEnd.toISOString(),
        cutoff: cutoff.toISOString(),
      };
    },

    /** Whether the stream's watermark of every metric has passed the cutoff. */
    async isComplete(run: ConsolidationRun): Promise<{ complete: boolean; behind: string[] }> {
      const rows = await warehouse('stream.watermarks')
        .where({ pipeline })
        .select('metric', 'watermark');
      const watermarks = new Map(rows.map((row) => [row.metric, new Date(row.watermark)]));
      const cutoff = new Date(run.cutoff);
      const behind = metrics
        .filter(
          (metric) => (watermarks.get(metric.name)?.getTime() ?? -Infinity) < cutoff.getTime(),
        )
        .map((metric) => metric.name);
      return { complete: behind.length === 0, behind };
    },

    /** Computes every metric's final values for the run's range into its staging rows. */
    async computeFinalValues(run: ConsolidationRun): Promise<{ values: number }> {
      const range = {
        start: new Date(run.rangeStart),
        end: new Date(run.rangeEnd),
        cutoff: new Date(run.cutoff),
      };
      return warehouse.transaction(async (trx) => {
        await trx('final.staged_values').where({ run_id: run.runId }).delete();
        let values = 0;
        for (const metric of metrics) {
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

    /**
     * Compares the stream's provisional values with the staged final ones per (metric, window,
     * key) and stores each difference with its cause.
     */
    async reconcile(run: ConsolidationRun): Promise<Record<ReconciliationCause, number>> {
      const rows = await warehouse.raw(
        `WITH final AS (
           SELECT metric, window_start, window_end, key_values, value
             FROM final.staged_values WHERE run_id = ?
         ), provisional AS (
           SELECT p.metric, p.window_start, p.window_end, p.key_values,
                  stream.accumulator_value(m.fn, p.accumulator) AS value
             FROM provisional.metric_values p
             JOIN unnest(?::text[], ?::text[]) AS m(metric, fn) ON m.metric = p.metric
            WHERE p.pipeline = ? AND p.window_start >= ? AND p.window_start < ?
         ), late AS (
           SELECT metric, window_start, window_end, key_values, array_agg(DISTINCT reason) AS reasons
             FROM ops.late_events
            WHERE pipeline = ? AND window_start >= ? AND window_start < ?
            GROUP BY metric, window_start, window_end, key_values
         )
         SELECT COALESCE(f.metric, p.metric) AS metric,
                COALESCE(f.window_start, p.window_start) AS window_start,
                COALESCE(f.window_end, p.window_end) AS window_end,
                COALESCE(f.key_values, p.key_values) AS key_values,
                p.value AS provisional, f.value AS final,
                COALESCE(late.reasons, '{}') AS late_reasons
           FROM final f
           FULL JOIN provisional p USING (metric, window_start, window_end, key_values)
           LEFT JOIN late ON late.metric = COALESCE(f.metric, p.metric)
                         AND late.window_start = COALESCE(f.window_start, p.window_start)
                         AND late.window_end = COALESCE(f.window_end, p.window_end)
                         AND late.key_values = COALESCE(f.key_values, p.key_values)`,
        [
          run.runId,
          metrics.map((metric) => metric.name),
          metrics.map((metric) => metric.aggregate.fn),
          pipeline,
          run.rangeStart,
          run.rangeEnd,
          pipeline,
          run.rangeStart,
          run.rangeEnd,
        ],
      );
      const counts = Object.fromEntries(RECONCILIATION_CAUSES.map((cause) => [cause, 0])) as Record<
        ReconciliationCause,
        number
      >;
      const audited = (
        rows.rows as {
          metric: string;
          window_start: Date;
          window_end: Date;
          key_values: unknown;
          provisional: string | null;
          final: string | null;
          late_reasons: string[];
        }[]
      ).map((row) => {
        const provisional = row.provisional === null ? null : Number(row.provisional);
        const final = row.final === null ? null : Number(row.final);
        const cause = causeOf({
          provisional,
          final,
          lateReasons: row.late_reasons,
          deadLettered: false,
        });
        counts[cause] += 1;
        return {
          run_id: run.runId,
          metric: row.metric,
          window_start: row.window_start,
          window_end: row.window_end,
          key_values: JSON.stringify(row.key_values),
          provisional,
          final,
          difference: provisional === null || final === null ? null : final - provisional,
          cause,
        };
      });
      await warehouse.transaction(async (trx) => {
        await trx('audit.reconciliation').where({ run_id: run.runId }).delete();
        for (let start = 0; start < audited.length; start += 2_000) {
          await trx('audit.reconciliation').insert(audited.slice(start, start + 2_000));
        }
      });
      return counts;
    },

    /**
     * Replaces the range's final values with the run's, in one transaction; every published value
     * that changes or disappears is recorded with its previous value, the run and the reason.
     */
    async publishFinalValues(
      run: ConsolidationRun,
    ): Promise<{ published: number; changed: number }> {
      return warehouse.transaction(async (trx) => {
        const runRow = await trx('final.runs').where({ run_id: run.runId }).first('reason');
        const changed = await trx.raw(
          `INSERT INTO final.value_changes (run_id, metric, window_start, window_end, key_values,
                                            previous_value, new_value, previous_run_id, reason)
           SELECT ?, old.metric, old.window_start, old.window_end, old.key_values, old.value,
                  new.value, old.run_id, ?
             FROM final.metric_values old
             LEFT JOIN final.staged_values new
               ON new.run_id = ? AND new.metric = old.metric AND new.window_start = old.window_start
              AND new.window_end = old.window_end AND new.key_values = old.key_values
            WHERE old.window_start >= ? AND old.window_start < ?
              AND new.value IS DISTINCT FROM old.value`,
          [run.runId, runRow?.reason ?? 'consolidation', run.runId, run.rangeStart, run.rangeEnd],
        );
        await trx('final.metric_values')
          .where('window_start', '>=', run.rangeStart)
          .andWhere('window_start', '<', run.rangeEnd)
          .delete();
        const published = await trx.raw(
          `INSERT INTO final.metric_values (metric, window_start, window_end, key_values, value, rows, run_id, published_at)
           SELECT metric, window_start, window_end, key_values, value, rows, run_id, now()
             FROM final.staged_values WHERE run_id = ?`,
          [run.runId],
        );
        await trx('final.runs')
          .where({ run_id: run.runId })
          .update({ status: 'published', finished_at: trx.fn.now() });
        return {
          published: (published as { rowCount: number }).rowCount,
          changed: (changed as { rowCount: number }).rowCount,
        };
      });
    },

    /** Marks a run blocked by its quality gate: the published values stay as they were. */
    async blockRun(run: ConsolidationRun): Promise<void> {
      await warehouse('final.runs')
        .where({ run_id: run.runId })
        .update({ status: 'blocked', finished_at: warehouse.fn.now() });
    },
  };
}

export type ConsolidationActivities = ReturnType<typeof createConsolidationActivities>;
