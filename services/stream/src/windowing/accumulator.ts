import type { Aggregate } from '@tidemark/contracts';

/** A measured value as the accumulator keeps it: a number, a string, or null (not measured). */
export type MeasureValue = number | string | null;

/**
 * The running state of one aggregate over one window and key. Every field is additive, so a
 * batch's delta merges into the stored state whichever consumer computed it, and a retraction
 * is the same delta with the opposite sign.
 */
export interface Accumulator {
  /** Rows contributing to the window (what `count` returns). */
  rows: number;
  /** Rows whose measure is not null: the denominator of `avg`. */
  measured: number;
  /** Sum of the numeric measures. */
  sum: number;
  /** Multiset of measures (JSON-encoded value -> multiplicity), kept for min, max and count_distinct. */
  values: Record<string, number>;
}

export function emptyAccumulator(): Accumulator {
  return { rows: 0, measured: 0, sum: 0, values: {} };
}

/** Whether the aggregate needs the multiset of values, not only counts and sums. */
export function keepsValues(aggregate: Aggregate): boolean {
  return aggregate.fn === 'min' || aggregate.fn === 'max' || aggregate.fn === 'count_distinct';
}

/** Adds (sign 1) or retracts (sign -1) one row's measure, in place. */
export function accumulate(
  accumulator: Accumulator,
  aggregate: Aggregate,
  measure: MeasureValue,
  sign: 1 | -1,
): void {
  accumulator.rows += sign;
  if (measure === null || aggregate.fn === 'count') return;
  accumulator.measured += sign;
  if (typeof measure === 'number') accumulator.sum += sign * measure;
  if (keepsValues(aggregate)) {
    const encoded = JSON.stringify(measure);
    const count = (accumulator.values[encoded] ?? 0) + sign;
    if (count === 0) delete accumulator.values[encoded];
    else accumulator.values[encoded] = count;
  }
}

/** Merges a delta into a state, in place; multiplicities that reach zero disappear. */
export function mergeAccumulator(into: Accumulator, delta: Accumulator): void {
  into.rows += delta.rows;
  into.measured += delta.measured;
  into.sum += delta.sum;
  for (const [encoded, count] of Object.entries(delta.values)) {
    const merged = (into.values[encoded] ?? 0) + count;
    if (merged === 0) delete into.values[encoded];
    else into.values[encoded] = merged;
  }
}

/** Whether a delta changes nothing (an update whose old and new contributions cancel out). */
export function isNeutral(delta: Accumulator): boolean {
  return (
    delta.rows === 0 &&
    delta.measured === 0 &&
    delta.sum === 0 &&
    Object.keys(delta.values).length === 0
  );
}

/**
 * The metric value of a state, with SQL's semantics so stream and batch agree: `count` counts
 * rows; the others ignore null measures and are null when nothing was measured.
 */
export function resultOf(aggregate: Aggregate, accumulator: Accumulator): number | string | null {
  if (aggregate.fn === 'count') return accumulator.rows;
  if (accumulator.measured <= 0) return null;
  switch (aggregate.fn) {
    case 'sum':
      return accumulator.sum;
    case 'avg':
      return accumulator.sum / accumulator.measured;
    case 'count_distinct':
      return Object.values(accumulator.values).filter((count) => count > 0).length;
    case 'min':
    case 'max': {
      const present = Object.entries(accumulator.values)
        .filter(([, count]) => count > 0)
        .map(([encoded]) => JSON.parse(encoded) as number | string);
      if (present.length === 0) return null;
      const ordered = present.sort(compareMeasures);
      return (aggregate.fn === 'min' ? ordered[0] : ordered.at(-1)) ?? null;
    }
  }
}

/** Orders measures: numbers numerically, strings by code point, numbers before strings. */
export function compareMeasures(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `resultOf` as an SQL aggregate over events' `measure` column, for the batch layer's final
 * values. (Over a stored accumulator, the warehouse's `stream.accumulator_value` is its twin:
 * accumulator-sql.ts.)
 */
export function aggregateSql(aggregate: Aggregate): string {
  if (aggregate.fn === 'count') return 'count(*)';
  if (aggregate.fn === 'count_distinct') return 'count(DISTINCT measure)';
  return `${aggregate.fn}(measure)`;
}
