import { TidemarkError } from '@tidemark/runtime';
import type { Knex } from 'knex';
import type { ReportDay, RunOfDay } from '../reports/runs';

// The warehouse queries `tidemark audit` and `tidemark quality` share: which runs a day has and
// which days have runs. Days are read as text: node-postgres would make a `date` a local midnight.

interface RunRow {
  run_id: string;
  workflow_id: string;
  day: string;
  status: string;
  reason: string;
  range_start: Date;
  range_end: Date;
  cutoff: Date;
  started_at: Date;
  finished_at: Date | null;
  reconciled_windows: string;
  quality_results: string;
  pipeline: string | null;
}

/**
 * Every consolidation run of a day (of one stream pipeline's, when given), with how many
 * reconciliation rows and gate results it has.
 */
export async function runsOfDay(
  warehouse: Knex,
  day: string,
  pipeline?: string,
): Promise<RunOfDay[]> {
  const result = await warehouse.raw(
    `SELECT r.run_id, r.workflow_id, to_char(r.day, 'YYYY-MM-DD') AS day, r.status, r.reason,
            r.range_start, r.range_end, r.cutoff, r.started_at, r.finished_at, r.pipeline,
            (SELECT count(*) FROM audit.reconciliation a WHERE a.run_id = r.run_id) AS reconciled_windows,
            (SELECT count(*) FROM quality.results q WHERE q.run_id = r.run_id) AS quality_results
       FROM final.runs r
      WHERE r.day = ?::date AND (?::text IS NULL OR r.pipeline = ?::text)`,
    [day, pipeline ?? null, pipeline ?? null],
  );
  return (result.rows as RunRow[]).map((row) => ({
    runId: row.run_id,
    workflowId: row.workflow_id,
    day: row.day,
    status: row.status,
    reason: row.reason,
    rangeStart: row.range_start,
    rangeEnd: row.range_end,
    cutoff: row.cutoff,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    pipeline: row.pipeline,
    reconciledWindows: Number(row.reconciled_windows),
    qualityResults: Number(row.quality_results),
  }));
}

/** The most recent days that have runs, each with the statuses of its runs. */
export async function recentRunDays(
  warehouse: Knex,
  limit = 5,
): Promise<{ day: string; statuses: string[] }[]> {
  const result = await warehouse.raw(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, array_agg(DISTINCT status ORDER BY status) AS statuses
       FROM final.runs
      GROUP BY day
      ORDER BY day DESC
      LIMIT ?`,
    [limit],
  );
  return result.rows as { day: string; statuses: string[] }[];
}

/** `days with runs, most recent first: 2026-11-22 (published), ...`, for an error message. */
export async function recentRunDaysText(warehouse: Knex): Promise<string> {
  const days = await recentRunDays(warehouse);
  if (days.length === 0) return 'no day has a consolidation run yet';
  const listed = days.map(({ day, statuses }) => `${day} (${statuses.join(', ')})`).join(', ');
  return `the most recent days with runs: ${listed}`;
}

/**
 * The day a report shows: the day asked for, or for `latest` the most recent day with a
 * published run (audit) or with a run the quality gate checked (quality).
 */
export async function resolveReportDay(
  warehouse: Knex,
  day: ReportDay,
  latest: 'published' | 'gated',
): Promise<string> {
  if (day.kind === 'day') return day.day;
  const result = await warehouse.raw(
    latest === 'published'
      ? `SELECT to_char(max(day), 'YYYY-MM-DD') AS day FROM final.runs WHERE status = ?`
      : `SELECT to_char(max(r.day), 'YYYY-MM-DD') AS day FROM final.runs r
          WHERE EXISTS (SELECT 1 FROM quality.results q WHERE q.run_id = r.run_id)`,
    latest === 'published' ? ['published'] : [],
  );
  const found = (result.rows as { day: string | null }[])[0]?.day;
  if (found) return found;
  const which = latest === 'published' ? 'a published run' : 'a run the quality gate checked';
  throw new TidemarkError(
    'BAD_INPUT',
    `--date latest: no day has ${which} yet; ${await recentRunDaysText(warehouse)}`,
  );
}

/**
 * The error for a day without a run to show: says whether the day has no run at all or only
 * runs that have not got that far, and which days have runs.
 */
export async function noRunToShow(
  warehouse: Knex,
  day: string,
  runs: readonly RunOfDay[],
  missing: string,
  pipeline?: string,
): Promise<TidemarkError> {
  const reason =
    runs.length === 0
      ? `no consolidation run for ${day}${pipeline ? ` reconciled against pipeline ${pipeline}` : ''}`
      : `no run of ${day} has ${missing} yet (its runs: ${runs
          .map((run) => `${run.runId} ${run.status}`)
          .join(', ')})`;
  return new TidemarkError('BAD_INPUT', `${reason}; ${await recentRunDaysText(warehouse)}`, {
    context: { day },
  });
}
