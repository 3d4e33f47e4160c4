import { ApplicationFailure } from '@temporalio/activity';
import type { MetricDefinition } from '@tidemark/contracts';
import type { StateSnapshot } from '../consolidation/state-snapshot';

/** One consolidation run, as the workflow carries it between activities (plain JSON). */
export interface ConsolidationRun {
  runId: string;
  day: string;
  rangeStart: string;
  rangeEnd: string;
  cutoff: string;
  /**
   * When the day is complete: its end plus the allowed lateness, or the cutoff when that is
   * earlier (a day consolidated before its end). A later cutoff (a backfill reading everything
   * known now) does not make the day wait longer.
   */
  completeAt: string;
  /** The metrics this run consolidates (a backfill may take some only). */
  metrics: string[];
  /** The backfill's state snapshot, read instead of rebuilding where it covers the run. */
  snapshot?: StateSnapshot;
  /**
   * The stream pipeline the run judges completeness by and reconciles against (absent in runs
   * started before it was recorded: the worker's own).
   */
  pipeline?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The range and cutoff of a day: the whole UTC day, complete once its allowed lateness passed,
 * read as of the cutoff (by default that same instant).
 */
export function dayRange(
  day: string,
  metrics: readonly MetricDefinition[],
  asOf?: string,
): { rangeStart: Date; rangeEnd: Date; cutoff: Date; completeAt: Date } {
  const rangeStart = new Date(`${day}T00:00:00Z`);
  if (!DAY.test(day) || Number.isNaN(rangeStart.getTime())) {
    throw ApplicationFailure.nonRetryable(`not a day: "${day}" (expected yyyy-mm-dd)`, 'BAD_INPUT');
  }
  const rangeEnd = new Date(rangeStart.getTime() + DAY_MS);
  const lateness = Math.max(0, ...metrics.map((metric) => metric.allowedLatenessMs));
  const closed = new Date(rangeEnd.getTime() + lateness);
  const cutoff = asOf ? new Date(asOf) : closed;
  if (Number.isNaN(cutoff.getTime())) {
    throw ApplicationFailure.nonRetryable(`not a time: "${asOf}"`, 'BAD_INPUT');
  }
  const completeAt = cutoff.getTime() < closed.getTime() ? cutoff : closed;
  return { rangeStart, rangeEnd, cutoff, completeAt };
}

/**
 * The definitions of the named metrics, in definition order; every metric when no names are
 * given. An unknown name is bad input naming the known ones.
 */
export function selectMetrics(
  names: readonly string[] | undefined,
  metrics: readonly MetricDefinition[],
): MetricDefinition[] {
  if (names === undefined || names.length === 0) return [...metrics];
  const unknown = names.filter((name) => !metrics.some((metric) => metric.name === name));
  if (unknown.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `unknown metric${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')} (known: ${metrics.map((metric) => metric.name).join(', ')})`,
      'BAD_INPUT',
    );
  }
  return metrics.filter((metric) => names.includes(metric.name));
}
