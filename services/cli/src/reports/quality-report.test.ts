import { describe, expect, it } from 'vitest';
import {
  buildQualityReport,
  gateVerdict,
  qualityExitCode,
  renderQualityJson,
  renderQualityTable,
  type QualityResultEntry,
} from './quality-report';
import { runFixture } from './test-fixtures';

const checkedAt = new Date('2026-11-23T01:02:00Z');
const result = (
  expectation: string,
  severity: string,
  passed: boolean,
  observed: unknown = { failing: passed ? 0 : 2 },
): QualityResultEntry => ({
  expectation,
  severity,
  passed,
  observed,
  message: passed ? 'passed' : `failed: ${JSON.stringify(observed)}`,
  checkedAt,
});

describe('buildQualityReport', () => {
  it('blocks when an ERROR expectation failed, and exits 1', () => {
    const report = buildQualityReport(runFixture({ status: 'blocked' }), [
      result('freshness:shop.orders', 'WARN', false),
      result('not_null:shop.orders:id', 'ERROR', false),
      result('range:shop.orders.amount_minor:0..', 'ERROR', true),
    ]);
    expect(report.outcome).toBe('blocked');
    expect(qualityExitCode(report)).toBe(1);
    expect(report.results.map((entry) => entry.expectation)).toEqual([
      'not_null:shop.orders:id',
      'range:shop.orders.amount_minor:0..',
      'freshness:shop.orders',
    ]);
    expect(gateVerdict(report)).toBe(
      'gate: BLOCKED publication: 1 ERROR expectation failed (not_null:shop.orders:id); also 1 warning (freshness:shop.orders)',
    );
  });

  it('passes with warnings when only WARN expectations failed, and exits 0', () => {
    const report = buildQualityReport(runFixture(), [
      result('not_null:shop.orders:id', 'ERROR', true),
      result('freshness:shop.orders', 'WARN', false),
      result('freshness:shop.payments', 'WARN', false),
    ]);
    expect(report.outcome).toBe('passed_with_warnings');
    expect(qualityExitCode(report)).toBe(0);
    expect(gateVerdict(report)).toBe(
      'gate: passed with 2 warnings (freshness:shop.orders, freshness:shop.payments); publication was not blocked',
    );
  });

  it('passes when every expectation is met', () => {
    const report = buildQualityReport(runFixture(), [result('a', 'ERROR', true)]);
    expect(report.outcome).toBe('passed');
    expect(qualityExitCode(report)).toBe(0);
    expect(gateVerdict(report)).toBe('gate: passed, every expectation met');
  });
});

describe('rendering', () => {
  const report = buildQualityReport(runFixture({ status: 'blocked' }), [
    result('not_null:shop.orders:id', 'ERROR', false, { nulls: 3 }),
    result('freshness:shop.orders', 'WARN', true, { lag_ms: 1200 }),
  ]);

  it('renders each expectation with severity, result and observed, then the verdict', () => {
    const lines = renderQualityTable(report).split('\n');
    expect(lines[0]).toBe(
      'quality gate of 2026-11-22: run run-1 (blocked), reason "nightly", cutoff 2026-11-23 00:30:00Z',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^not_null:shop.orders:id +ERROR +FAILED +\{"nulls":3\}$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^freshness:shop.orders +WARN +passed +\{"lag_ms":1200\}$/),
    );
    expect(lines.at(-1)).toMatch(/^gate: BLOCKED publication/);
  });

  it('renders JSON with the outcome and the run', () => {
    const json = JSON.parse(renderQualityJson(report));
    expect(json).toMatchObject({
      day: '2026-11-22',
      outcome: 'blocked',
      blocked: true,
      failedErrors: ['not_null:shop.orders:id'],
      failedWarnings: [],
      run: { runId: 'run-1', status: 'blocked', cutoff: '2026-11-23T00:30:00.000Z' },
    });
    expect(json.results[0]).toEqual({
      expectation: 'not_null:shop.orders:id',
      severity: 'ERROR',
      passed: false,
      observed: { nulls: 3 },
      message: 'failed: {"nulls":3}',
      checkedAt: '2026-11-23T01:02:00.000Z',
    });
  });
});
