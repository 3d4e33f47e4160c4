import { describe, expect, it } from 'vitest';
import { distributionOf, medianBy, percentile, ratePerSec } from './stats';

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
  });

  it('is NaN for an empty sample and rejects a p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('distributionOf', () => {
  it('sorts numerically, leaves the input alone and reports mean and max', () => {
    const values = [900, 10, 200, 30, 1000, 20, 100, 40, 50, 60];
    const distribution = distributionOf(values);
    expect(distribution).toEqual({
      count: 10,
      mean: 241,
      p50: 50,
      p95: 1000,
      p99: 1000,
      max: 1000,
    });
    expect(values[0]).toBe(900);
  });

  it('describes an empty sample without throwing', () => {
    const distribution = distributionOf([]);
    expect(distribution.count).toBe(0);
    expect(distribution.p95).toBeNaN();
  });
});

describe('ratePerSec', () => {
  it('is events per second, 0 without elapsed time', () => {
    expect(ratePerSec(30_000, 1_500)).toBe(20_000);
    expect(ratePerSec(10, 0)).toBe(0);
  });
});

describe('medianBy', () => {
  it('picks the middle item, the lower one of an even count', () => {
    const passes = [{ eps: 90 }, { eps: 70 }, { eps: 120 }];
    expect(medianBy(passes, (pass) => pass.eps)).toEqual({ eps: 90 });
    expect(medianBy([{ eps: 2 }, { eps: 1 }], (pass) => pass.eps)).toEqual({ eps: 1 });
    expect(() => medianBy([], (pass: { eps: number }) => pass.eps)).toThrow(RangeError);
  });
});
