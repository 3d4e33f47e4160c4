import { log } from '@temporalio/activity';
import { METRICS, type Expectation, type MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { createFinalValueActivities } from './final-values';
import { withHeartbeats } from './heartbeat';
import { dayRange, selectMetrics, type ConsolidationRun } from './run';
import { createQualityGateActivities } from './quality-gate';
import { createReconciliationActivities } from './reconcile';
import { createStateSnapshotActivities } from './state-snapshot';

export type { QualityOutcome } from './quality-gate';
export { dayRange, selectMetrics, type ConsolidationRun } from './run';

export interface ConsolidationDependencies {
  warehouse: Knex;
  /** The source database, read-only, for row counts. */
  source: Knex;
  /** The stream pipeline whose provisional values are reconciled against the final ones. */
  pipeline: string;
  metrics?: readonly MetricDefinition[];
  expectations?: readonly Expectation[];
}

export type { ReconciliationCounts } from './reconcile';

/** The activities of the nightly consolidation, bound to their dependencies. */
export function createConsolidationActivities(deps: ConsolidationDependencies) {
  const { warehouse, pipeline } = deps;
  const metrics = deps.metrics ?? METRICS;
  const { findSnapshot, ...snapshotActivities } = createStateSnapshotActivities(deps);

  return withHeartbeats({
    ...createFinalValueActivities(deps),
    ...createQualityGateActivities(deps),
    ...snapshotActivities,
    ...createReconciliationActivities({ warehouse, pipeline, metrics }),

    /** Records a run (idempotent for a workflow retry) and returns its range and cutoff. */
    async startConsolidation(input: {
      runId: string;
      workflowId: string;
      day: string;
      asOf?: string;
      reason: string;
      /** Only these metrics (every metric when absent). */
      metrics?: string[];
      /** The backfill this run belongs to. */
      backfillId?: string;
      /** The backfill's state snapshot: read where it covers the run, if it is still there. */
      snapshotId?: number;
      /** The stream pipeline to judge and reconcile by (default: the worker's). */
      pipeline?: string;
    }): Promise<ConsolidationRun> {
      const runPipeline = input.pipeline ?? pipeline;
      const selected = selectMetrics(input.metrics, metrics);
      const { rangeStart, rangeEnd, cutoff, completeAt } = dayRange(
        input.day,
        selected,
        input.asOf,
      );
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
          metrics: input.metrics?.length ? selected.map((metric) => metric.name) : null,
          backfill_id: input.backfillId ?? null,
          pipeline: runPipeline,
        })
        .onConflict('run_id')
        .ignore();
      // Gone after a crash of the warehouse (unlogged) or a release: the run rebuilds instead.
      const snapshot = input.snapshotId ? await findSnapshot(input.snapshotId) : undefined;
      if (input.snapshotId && !snapshot) {
        log.warn('state snapshot not found: rebuilding from the changelog', {
          snapshotId: input.snapshotId,
          day: input.day,
        });
      }
      await warehouse('final.runs')
        .where({ run_id: input.runId })
        .update({ snapshot_id: snapshot?.snapshotId ?? null });
      return {
        runId: input.runId,
        day: input.day,
        rangeStart: rangeStart.toISOString(),
        rangeEnd: rangeEnd.toISOString(),
        cutoff: cutoff.toISOString(),
        completeAt: completeAt.toISOString(),
        metrics: selected.map((metric) => metric.name),
        ...(snapshot ? { snapshot } : {}),
        pipeline: runPipeline,
      };
    },

    /** Whether the stream's watermark of every metric of the run has passed its completion point. */
    async isComplete(run: ConsolidationRun): Promise<{
      complete: boolean;
      behind: string[];
      /** The pipeline judged, and where each metric behind stands, for the failure message. */
      pipeline?: string;
      waiting?: string[];
    }> {
      const judged = run.pipeline ?? pipeline;
      const rows = await warehouse('stream.watermarks')
        .where({ pipeline: judged })
        .select('metric', 'watermark');
      const watermarks = new Map(rows.map((row) => [row.metric, new Date(row.watermark)]));
      const completeAt = new Date(run.completeAt).getTime();
      const behind = selectMetrics(run.metrics, metrics)
        .filter((metric) => (watermarks.get(metric.name)?.getTime() ?? -Infinity) < completeAt)
        .map((metric) => metric.name);
      const waiting = behind.map((metric) => {
        const watermark = watermarks.get(metric);
        if (watermark === undefined) return `${metric} has no watermark (has the pipeline run?)`;
        const minutes = Math.ceil((completeAt - watermark.getTime()) / 60_000);
        return `${metric} is at ${watermark.toISOString()} (${minutes} min short)`;
      });
      return { complete: behind.length === 0, behind, pipeline: judged, waiting };
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
          `WITH old AS (
             SELECT * FROM final.metric_values
              WHERE metric = ANY(?::text[]) AND window_start >= ? AND window_start < ?
           ), new AS (
             SELECT * FROM final.staged_values WHERE run_id = ?
           ), republished AS (
             -- Values appearing in a range published before are changes too (previous: none).
             SELECT DISTINCT metric FROM old
           )
           INSERT INTO final.value_changes (run_id, metric, window_start, window_end, key_values,
                                            previous_value, new_value, previous_run_id, reason)
           SELECT ?, COALESCE(old.metric, new.metric), COALESCE(old.window_start, new.window_start),
                  COALESCE(old.window_end, new.window_end), COALESCE(old.key_values, new.key_values),
                  old.value, new.value, old.run_id, ?
             FROM old
             FULL JOIN new USING (metric, window_start, window_end, key_values)
            WHERE CASE WHEN old.run_id IS NULL THEN new.metric IN (SELECT metric FROM republished)
                       WHEN new.run_id IS NULL THEN true
                       ELSE old.value IS DISTINCT FROM new.value END`,
          [
            run.metrics,
            run.rangeStart,
            run.rangeEnd,
            run.runId,
            run.runId,
            runRow?.reason ?? 'consolidation',
          ],
        );
        await trx('final.metric_values')
          .whereIn('metric', run.metrics)
          .andWhere('window_start', '>=', run.rangeStart)
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

    /**
     * Marks a run whose day never became complete (the stream's watermark did not pass it in
     * time): nothing was computed, and the run does not look as if it were still computing.
     */
    async markRunIncomplete(run: ConsolidationRun): Promise<void> {
      await warehouse('final.runs')
        .where({ run_id: run.runId })
        .update({ status: 'incomplete', finished_at: warehouse.fn.now() });
    },

    /** Marks a run blocked by its quality gate: the published values stay as they were. */
    async blockRun(run: ConsolidationRun): Promise<void> {
      await warehouse('final.runs')
        .where({ run_id: run.runId })
        .update({ status: 'blocked', finished_at: warehouse.fn.now() });
    },
  });
}

export type ConsolidationActivities = ReturnType<typeof createConsolidationActivities>;
