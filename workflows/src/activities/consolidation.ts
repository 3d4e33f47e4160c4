import { log } from '@temporalio/activity';
import { METRICS, type Expectation, type MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import {
  causeOf,
  RECONCILIATION_CAUSES,
  type ReconciliationCause,
} from '../consolidation/reconcile';
import { CONSOLIDATION_WORK_MEM } from '../consolidation/final-metric-sql';
import { preStartChangesSql } from '../consolidation/unobserved-sql';
import { createFinalValueActivities } from './final-values';
import { withHeartbeats } from './heartbeat';
import { dayRange, selectMetrics, type ConsolidationRun } from './run';
import { createQualityGateActivities } from './quality-gate';
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

/**
 * Windows per cause, and the windows left out because they started before the stream pipeline
 * observed the changelog (nothing provisional to compare them with).
 */
export type ReconciliationCounts = Record<ReconciliationCause, number> & { unobserved: number };

/** The activities of the nightly consolidation, bound to their dependencies. */
export function createConsolidationActivities(deps: ConsolidationDependencies) {
  const { warehouse, pipeline } = deps;
  const metrics = deps.metrics ?? METRICS;
  const { findSnapshot, ...snapshotActivities } = createStateSnapshotActivities(deps);

  return withHeartbeats({
    ...createFinalValueActivities(deps),
    ...createQualityGateActivities(deps),
    ...snapshotActivities,

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
    }): Promise<ConsolidationRun> {
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
      };
    },

    /** Whether the stream's watermark of every metric of the run has passed its completion point. */
    async isComplete(run: ConsolidationRun): Promise<{ complete: boolean; behind: string[] }> {
      const rows = await warehouse('stream.watermarks')
        .where({ pipeline })
        .select('metric', 'watermark');
      const watermarks = new Map(rows.map((row) => [row.metric, new Date(row.watermark)]));
      const completeAt = new Date(run.completeAt).getTime();
      const behind = selectMetrics(run.metrics, metrics)
        .filter((metric) => (watermarks.get(metric.name)?.getTime() ?? -Infinity) < completeAt)
        .map((metric) => metric.name);
      return { complete: behind.length === 0, behind };
    },

    /**
     * Compares the stream's provisional values with the staged final ones per (metric, window,
     * key) and stores each difference with its cause.
     */
    async reconcile(run: ConsolidationRun): Promise<ReconciliationCounts> {
      const selected = selectMetrics(run.metrics, metrics);
      // Windows the pipeline saw only part of (changes committed before it started at the
      // topics' end touched them) have no comparable provisional side; a pipeline that never
      // ran saw nothing.
      const observation = await warehouse('stream.pipelines')
        .where({ pipeline })
        .first('observed_from');
      const observedFrom: Date | null = observation?.observed_from ?? null;
      const preStart = observedFrom
        ? preStartChangesSql(
            selected,
            { start: new Date(run.rangeStart), end: new Date(run.rangeEnd) },
            new Date(observedFrom),
          )
        : {
            sql: `SELECT NULL::text AS metric, NULL::jsonb AS key_values,
                         NULL::timestamptz AS first_event, NULL::timestamptz AS last_event,
                         NULL::interval AS reach WHERE false`,
            bindings: [],
          };
      // The missed changes go to an indexed temporary table: each reconciled window looks its
      // key's up by index instead of scanning all of them.
      const rows = await warehouse.transaction(async (trx): Promise<{ rows: unknown[] }> => {
        await trx.raw(`SET LOCAL work_mem = '${CONSOLIDATION_WORK_MEM}'`);
        await trx.raw(`CREATE TEMPORARY TABLE pre_start ON COMMIT DROP AS ${preStart.sql}`, [
          ...preStart.bindings,
        ]);
        await trx.raw('CREATE INDEX ON pre_start (metric, key_values, last_event)');
        await trx.raw('ANALYZE pre_start');
        return (await trx.raw(
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
           -- A late contribution carried by a replayed dead letter is the dead letter's doing.
           SELECT late.metric, late.window_start, late.window_end, late.key_values,
                  COALESCE(array_agg(DISTINCT late.reason) FILTER (WHERE replayed.id IS NULL), '{}')
                    AS reasons,
                  bool_or(replayed.id IS NOT NULL) AS dead_lettered
             FROM ops.late_events late
             LEFT JOIN LATERAL (
               SELECT id FROM ops.dead_letters
                WHERE replay_source_table = late.source_table AND replay_lsn = late.lsn
                LIMIT 1
             ) replayed ON true
            WHERE late.pipeline = ? AND late.metric = ANY(?::text[])
              AND late.window_start >= ? AND late.window_start < ?
            GROUP BY late.metric, late.window_start, late.window_end, late.key_values
         )
         SELECT COALESCE(f.metric, p.metric) AS metric,
                COALESCE(f.window_start, p.window_start) AS window_start,
                COALESCE(f.window_end, p.window_end) AS window_end,
                COALESCE(f.key_values, p.key_values) AS key_values,
                p.value AS provisional, f.value AS final,
                COALESCE(late.reasons, '{}') AS late_reasons,
                COALESCE(late.dead_lettered, false) AS dead_lettered,
                ?::boolean OR EXISTS (
                  SELECT 1 FROM pre_start
                   WHERE pre_start.metric = COALESCE(f.metric, p.metric)
                     AND pre_start.key_values = COALESCE(f.key_values, p.key_values)
                     AND pre_start.first_event < COALESCE(f.window_end, p.window_end)
                     AND pre_start.last_event >= COALESCE(f.window_start, p.window_start) - pre_start.reach
                ) AS unobserved
           FROM final f
           FULL JOIN provisional p USING (metric, window_start, window_end, key_values)
           LEFT JOIN late ON late.metric = COALESCE(f.metric, p.metric)
                         AND late.window_start = COALESCE(f.window_start, p.window_start)
                         AND late.window_end = COALESCE(f.window_end, p.window_end)
                         AND late.key_values = COALESCE(f.key_values, p.key_values)`,
          [
            run.runId,
            selected.map((metric) => metric.name),
            selected.map((metric) => metric.aggregate.fn),
            pipeline,
            run.rangeStart,
            run.rangeEnd,
            pipeline,
            selected.map((metric) => metric.name),
            run.rangeStart,
            run.rangeEnd,
            !observation,
          ],
        )) as { rows: unknown[] };
      });
      const counts = Object.fromEntries([
        ...RECONCILIATION_CAUSES.map((cause) => [cause, 0]),
        ['unobserved', 0],
      ]) as ReconciliationCounts;
      const audited = (
        rows.rows as {
          metric: string;
          window_start: Date;
          window_end: Date;
          key_values: unknown;
          provisional: string | null;
          final: string | null;
          late_reasons: string[];
          dead_lettered: boolean;
          unobserved: boolean;
        }[]
      ).flatMap((row) => {
        if (row.unobserved) {
          counts.unobserved += 1;
          return [];
        }
        const provisional = row.provisional === null ? null : Number(row.provisional);
        const final = row.final === null ? null : Number(row.final);
        const cause = causeOf({
          provisional,
          final,
          lateReasons: row.late_reasons,
          deadLettered: row.dead_lettered,
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
