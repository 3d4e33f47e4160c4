import { describe, expect, it } from 'vitest';
import type { BatchMeasurements } from './batch-bench';
import { rowsForChanges } from './batch-day';
import { buildBatchResult, renderBatchResult } from './batch-report';

const machine = {
  cpus: 2,
  cpuModel: 'test CPU',
  memoryGb: 8,
  node: 'v20',
  platform: 'linux',
  release: '6',
};

const measured: BatchMeasurements = {
  day: '2030-01-15',
  counts: {
    changes: 1_000_000,
    orders: { c: 400_000, u: 160_000, d: 40_000 },
    payments: { c: 300_000, u: 80_000, d: 20_000 },
  },
  generateMs: 20_000,
  consolidation: { passesMs: [12_000], ms: 12_000, values: 375_728 },
  changelogBaseline: { passesMs: [10_000], ms: 10_000, rows: 380_000, metrics: ['a'] },
  stateBaseline: {
    passesMs: [2_000],
    ms: 2_000,
    rows: 375_728,
    metrics: ['a'],
    stateRows: { bench_shop_orders: 360_000 },
  },
  comparison: { compared: 375_728, mismatched: 0 },
  qualityGate: { ms: 9_000, failed: ['row_count_matches_source:shop.orders'] },
  backfill: { seconds: null, days: 365, changesPerDay: 3_000, note: 'not measured' },
};

describe('buildBatchResult', () => {
  it('judges the consolidation against the plain SQL over the same changes', () => {
    const result = buildBatchResult(measured, machine, {}, new Date('2026-11-23T00:00:00Z'));
    expect(result).toMatchObject({
      consolidation_s: 12,
      sql_baseline_s: 10,
      ratio: 1.2,
      sql_baseline_final_state_s: 2,
      ratio_to_final_state: 6,
      backfill_365_days_s: null,
      mismatched_values: 0,
      target: { target: '<= 1.5', actual: 1.2, met: true },
    });
    expect(Object.keys(result.definitions)).toEqual(
      expect.arrayContaining(['consolidation_s', 'sql_baseline_s', 'backfill_365_days_s']),
    );
  });

  it('renders a table with the note of a backfill not measured', () => {
    const text = renderBatchResult(buildBatchResult(measured, machine, {}, new Date()));
    expect(text).toContain('consolidation / plain SQL');
    expect(text).toMatch(/1\.20 x\s+<= 1\.5 x\s+met/);
    expect(text).toContain('backfill: not measured');
  });

  it('judges a 365-day backfill against five minutes, and other lengths not at all', () => {
    const timed = (seconds: number, days: number) =>
      buildBatchResult(
        { ...measured, backfill: { ...measured.backfill, seconds, days, note: '' } },
        machine,
        {},
        new Date(),
      );
    expect(timed(146.8, 365).backfill_target).toEqual({
      target: '< 300',
      actual: 146.8,
      met: true,
    });
    expect(timed(936.6, 365).backfill_target.met).toBe(false);
    expect(renderBatchResult(timed(936.6, 365))).toMatch(/936\.6 s\s+< 300 s\s+NOT met/);
    expect(timed(20, 30).backfill_target.met).toBeNull();
    expect(buildBatchResult(measured, machine, {}, new Date()).backfill_target.met).toBeNull();
  });
});

describe('rowsForChanges', () => {
  it('gives 60 % of the changes to orders and 40 % to payments', () => {
    expect(rowsForChanges(1_000_000)).toEqual({ orders: 400_000, payments: 300_000 });
  });
});
