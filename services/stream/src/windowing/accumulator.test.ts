import type { Aggregate } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import {
  accumulate,
  emptyAccumulator,
  isNeutral,
  mergeAccumulator,
  resultOf,
  type MeasureValue,
} from './accumulator';

function fold(aggregate: Aggregate, measures: MeasureValue[], retracted: MeasureValue[] = []) {
  const accumulator = emptyAccumulator();
  for (const measure of measures) accumulate(accumulator, aggregate, measure, 1);
  for (const measure of retracted) accumulate(accumulator, aggregate, measure, -1);
  return accumulator;
}

describe('accumulators', () => {
  it('count counts rows, null measures included', () => {
    expect(resultOf({ fn: 'count' }, fold({ fn: 'count' }, [null, null, null]))).toBe(3);
  });

  it('sum and avg ignore nulls and are null when nothing was measured, as in SQL', () => {
    const sum: Aggregate = { fn: 'sum', of: { field: 'amount_minor' } };
    const avg: Aggregate = { fn: 'avg', of: { field: 'amount_minor' } };
    expect(resultOf(sum, fold(sum, [10, null, 5]))).toBe(15);
    expect(resultOf(avg, fold(avg, [10, null, 5]))).toBe(7.5);
    expect(resultOf(sum, fold(sum, [null]))).toBeNull();
    expect(resultOf(avg, fold(avg, []))).toBeNull();
  });

  it('min, max and count_distinct survive retracting their current extreme', () => {
    const min: Aggregate = { fn: 'min', of: { field: 'amount_minor' } };
    const max: Aggregate = { fn: 'max', of: { field: 'amount_minor' } };
    const distinct: Aggregate = { fn: 'count_distinct', of: { field: 'customer_id' } };
    expect(resultOf(min, fold(min, [3, 1, 2, 1], [1]))).toBe(1);
    expect(resultOf(min, fold(min, [3, 1, 2], [1]))).toBe(2);
    expect(resultOf(max, fold(max, [3, 10, 2], [10]))).toBe(3);
    expect(resultOf(distinct, fold(distinct, ['a', 'b', 'a'], ['a']))).toBe(2);
    expect(resultOf(distinct, fold(distinct, ['a', 'b', 'a'], ['b']))).toBe(1);
  });

  it('a retraction of everything leaves a neutral state', () => {
    const sum: Aggregate = { fn: 'sum', of: { field: 'amount_minor' } };
    const accumulator = fold(sum, [4, 5], [5, 4]);
    expect(isNeutral(accumulator)).toBe(true);
    expect(resultOf(sum, accumulator)).toBeNull();
  });

  it('merging deltas equals accumulating everything in one place', () => {
    const max: Aggregate = { fn: 'max', of: { field: 'amount_minor' } };
    const whole = fold(max, [1, 7, 3], [7]);
    const merged = fold(max, [1, 7]);
    mergeAccumulator(merged, fold(max, [3], [7]));
    expect(merged).toEqual(whole);
    expect(resultOf(max, merged)).toBe(3);
  });
});
