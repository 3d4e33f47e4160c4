import { describe, expect, it } from 'vitest';
import { walBetween, walPerChangeOf } from './wal-meter';

describe('the WAL meter', () => {
  it('gives what was written between two readings, per change', () => {
    const written = walBetween(
      { records: 1_000, fullPageImages: 10, bytes: 50_000 },
      { records: 3_500_000, fullPageImages: 2_010, bytes: 450_050_000 },
    );
    expect(written).toEqual({ records: 3_499_000, fullPageImages: 2_000, bytes: 450_000_000 });
    expect(walPerChangeOf(written, 159_000)).toEqual({
      records: 22,
      fullPageImages: 0.013,
      bytes: 2_830,
    });
  });

  it('measures nothing across a reset of the counters, or over no change', () => {
    const before = { records: 9_000, fullPageImages: 5, bytes: 90_000 };
    expect(walBetween(before, { records: 100, fullPageImages: 0, bytes: 1_000 })).toBeNull();
    expect(walPerChangeOf(null, 100)).toBeNull();
    expect(walPerChangeOf(before, 0)).toBeNull();
  });
});
