// The pure part of a backfill: its days, its validated input and its progress. Runs inside the
// workflow sandbox (no I/O, no clock) and in the CLI.

const DAY_MS = 24 * 60 * 60 * 1000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** At most this many days in one backfill (ten years): a typo in a year must not start 10^5 days. */
export const MAX_BACKFILL_DAYS = 3_660;

export interface BackfillRequest {
  /** Metric names, or every metric when absent or empty. */
  metrics?: string[];
  /** First day, yyyy-mm-dd (UTC). */
  from: string;
  /** Last day, inclusive. */
  to: string;
  /** Days consolidated at once. */
  concurrency?: number;
  /** Why: kept with every run and every changed value. */
  reason?: string;
}

/** A problem with a backfill request, naming the field. */
export class BackfillInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'BackfillInputError';
  }
}

/** Whether the text is a calendar day written yyyy-mm-dd (2026-02-30 is not). */
export function isDay(text: string): boolean {
  const ms = Date.parse(`${text}T00:00:00Z`);
  return DAY.test(text) && !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

function dayMs(field: string, day: string): number {
  if (!isDay(day)) throw new BackfillInputError(field, `not a day: "${day}" (expected yyyy-mm-dd)`);
  return Date.parse(`${day}T00:00:00Z`);
}

/** Checks a request; throws a BackfillInputError naming the first bad field. */
export function validateBackfillRequest(request: BackfillRequest): void {
  const from = dayMs('from', request.from);
  const to = dayMs('to', request.to);
  if (to < from) {
    throw new BackfillInputError('to', `${request.to} is before from ${request.from}`);
  }
  const days = (to - from) / DAY_MS + 1;
  if (days > MAX_BACKFILL_DAYS) {
    throw new BackfillInputError(
      'to',
      `${days} days from ${request.from} to ${request.to} is more than ${MAX_BACKFILL_DAYS}; split the range`,
    );
  }
  const { concurrency } = request;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new BackfillInputError('concurrency', `expected a whole number >= 1, got ${concurrency}`);
  }
  if (concurrency !== undefined && concurrency > 64) {
    throw new BackfillInputError('concurrency', `at most 64 days at once, got ${concurrency}`);
  }
}

/** The number of days from `from` to `to`, both included. */
export function dayCount(from: string, to: string): number {
  return (dayMs('to', to) - dayMs('from', from)) / DAY_MS + 1;
}

/** The day `index` days after `from`. */
export function dayAt(from: string, index: number): string {
  return new Date(dayMs('from', from) + index * DAY_MS).toISOString().slice(0, 10);
}

/** A day that failed to consolidate, with the failure's type and message. */
export interface BackfillFailure {
  day: string;
  type: string;
  message: string;
}

/** What a backfill has done so far; carried across continue-as-new. */
export interface BackfillProgress {
  total: number;
  /** Days started so far (the next day to start is `dayAt(from, started)`). */
  started: number;
  succeeded: number;
  failed: BackfillFailure[];
  /** Published values written by the succeeded days, and how many of them changed. */
  published: number;
  changed: number;
  /** How many times the backfill continued as a new run (history kept short). */
  generation: number;
}

export type BackfillStatus = 'running' | 'paused' | 'cancelling' | 'cancelled' | 'completed';

/** The answer of the progress query, and the workflow's result. */
export interface BackfillReport extends BackfillProgress {
  backfillId: string;
  from: string;
  to: string;
  metrics: string[];
  concurrency: number;
  reason: string;
  asOf: string;
  status: BackfillStatus;
  /** Days being consolidated right now. */
  running: string[];
}

export function initialProgress(total: number): BackfillProgress {
  return { total, started: 0, succeeded: 0, failed: [], published: 0, changed: 0, generation: 0 };
}

/** Days finished (succeeded or failed). */
export function finishedDays(progress: BackfillProgress): number {
  return progress.succeeded + progress.failed.length;
}

/** A one-line progress bar: `[#######.............]  35%  7/20 days, 1 failed`. */
export function progressBar(report: BackfillReport, width = 30): string {
  const finished = finishedDays(report);
  const share = report.total === 0 ? 1 : finished / report.total;
  const filled = Math.round(share * width);
  const failed = report.failed.length > 0 ? `, ${report.failed.length} failed` : '';
  const running = report.running.length > 0 ? `, ${report.running.length} running` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${finished}/${report.total} days${failed}${running}  ${report.status}`;
}
