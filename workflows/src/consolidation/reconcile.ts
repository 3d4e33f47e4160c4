/**
 * Why a provisional value differs from the final one; `exact` when it does not. Which one a
 * window gets is decided by replaying what the stream kept out (`attribution.ts`).
 */
export const RECONCILIATION_CAUSES = [
  'exact',
  'late_beyond_lateness',
  'changed_after_close',
  'truncated',
  'kafka_gap',
  'dead_lettered',
  'unexplained',
] as const;
export type ReconciliationCause = (typeof RECONCILIATION_CAUSES)[number];

/** Values equal up to floating-point noise (averages are computed in two ways). */
export function sameValue(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
