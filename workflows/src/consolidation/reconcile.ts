/** Why a provisional value differs from the final one; `exact` when it does not. */
export const RECONCILIATION_CAUSES = [
  'exact',
  'late_beyond_lateness',
  'changed_after_close',
  'dead_lettered',
  'unexplained',
] as const;
export type ReconciliationCause = (typeof RECONCILIATION_CAUSES)[number];

/** One (metric, window, key) as the reconciliation sees it. */
export interface ReconciledWindow {
  provisional: number | null;
  final: number | null;
  /** Reasons the late ledger holds for contributions kept out of this window. */
  lateReasons: readonly string[];
  /** Whether a contribution the late ledger kept out of this window came from a replayed dead letter. */
  deadLettered: boolean;
}

/** Values equal up to floating-point noise (averages are computed in two ways). */
export function sameValue(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * The cause of a difference, most specific first: a contribution the late ledger kept out as
 * too late, or as a change to a closed window; a dead letter replayed after its window closed;
 * otherwise unexplained, which the platform aims to keep at zero.
 */
export function causeOf(window: ReconciledWindow): ReconciliationCause {
  // An empty window reads as null on one side and 0 (a count of nothing) on the other.
  const provisional = window.provisional === 0 && window.final === null ? null : window.provisional;
  const final = window.final === 0 && window.provisional === null ? null : window.final;
  if (sameValue(provisional, final)) return 'exact';
  if (window.lateReasons.includes('late_beyond_lateness')) return 'late_beyond_lateness';
  if (window.lateReasons.includes('changed_after_close')) return 'changed_after_close';
  if (window.deadLettered) return 'dead_lettered';
  return 'unexplained';
}
