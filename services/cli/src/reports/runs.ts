/** A consolidation run as the reports show it (a row of final.runs). */
export interface RunSummary {
  runId: string;
  workflowId: string;
  /** The day consolidated, `yyyy-mm-dd` (UTC). */
  day: string;
  status: string;
  reason: string;
  rangeStart: Date;
  rangeEnd: Date;
  cutoff: Date;
  startedAt: Date;
  finishedAt: Date | null;
  /** The stream pipeline it judged and reconciled by (null: a run before that was recorded). */
  pipeline?: string | null;
}

/** A run of a day with how much of the audit and the gate it has stored. */
export interface RunOfDay extends RunSummary {
  reconciledWindows: number;
  qualityResults: number;
}

/** A day a report was asked for: a UTC date, or the most recent one with a run to show. */
export type ReportDay = { kind: 'day'; day: string } | { kind: 'latest' };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `yyyy-mm-dd` naming a real calendar day, or `latest`; undefined for anything else. */
export function parseReportDay(text: string): ReportDay | undefined {
  if (text === 'latest') return { kind: 'latest' };
  const match = DAY.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over into March; a real day reads back the same.
  return date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day
    ? { kind: 'day', day: text }
    : undefined;
}

// The audit prefers the run whose values are published, then one the gate judged.
const AUDIT_STATUS_RANK: Readonly<Record<string, number>> = {
  published: 0,
  blocked: 1,
  gated: 1,
  computing: 2,
};

function latestFirst(a: RunSummary, b: RunSummary): number {
  return b.startedAt.getTime() - a.startedAt.getTime() || (a.runId < b.runId ? 1 : -1);
}

/**
 * The run whose reconciliation `tidemark audit` shows: of the day's runs that reconciled, a
 * published one first, then a blocked or gated one, then any; the latest started among them.
 */
export function chooseAuditRun(runs: readonly RunOfDay[]): RunOfDay | undefined {
  const rank = (run: RunSummary) => AUDIT_STATUS_RANK[run.status] ?? 3;
  return runs
    .filter((run) => run.reconciledWindows > 0)
    .sort((a, b) => rank(a) - rank(b) || latestFirst(a, b))[0];
}

/** The run whose gate `tidemark quality` shows: the latest started of those the gate checked. */
export function chooseQualityRun(runs: readonly RunOfDay[]): RunOfDay | undefined {
  return runs.filter((run) => run.qualityResults > 0).sort(latestFirst)[0];
}

/** `2026-11-22 10:00:00Z`: a UTC time short enough for a table, unambiguous. */
export function formatTime(time: Date): string {
  return `${time.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** One line naming a run: id, status, reason and cutoff. */
export function describeRun(run: RunSummary): string {
  const against = run.pipeline ? `, reconciled against pipeline ${run.pipeline}` : '';
  return `run ${run.runId} (${run.status}), reason ${JSON.stringify(run.reason)}, cutoff ${formatTime(run.cutoff)}${against}`;
}

/** The run as it appears in a JSON report. */
export function runJson(run: RunSummary) {
  return {
    runId: run.runId,
    workflowId: run.workflowId,
    day: run.day,
    status: run.status,
    reason: run.reason,
    rangeStart: run.rangeStart.toISOString(),
    rangeEnd: run.rangeEnd.toISOString(),
    cutoff: run.cutoff.toISOString(),
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    pipeline: run.pipeline ?? null,
  };
}
