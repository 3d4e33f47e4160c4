import { describe, expect, it } from 'vitest';
import { chooseAuditRun, chooseQualityRun, describeRun, parseReportDay } from './runs';
import { runFixture } from './test-fixtures';

describe('parseReportDay', () => {
  it('reads a calendar day or latest', () => {
    expect(parseReportDay('2026-11-22')).toEqual({ kind: 'day', day: '2026-11-22' });
    expect(parseReportDay('2024-02-29')).toEqual({ kind: 'day', day: '2024-02-29' });
    expect(parseReportDay('latest')).toEqual({ kind: 'latest' });
  });

  it('rejects what is not a real day', () => {
    for (const text of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-1-2', '22/11/2026', '']) {
      expect(parseReportDay(text)).toBeUndefined();
    }
  });
});

describe('chooseAuditRun', () => {
  const at = (hour: number) => new Date(Date.UTC(2026, 10, 23, hour));

  it('prefers a published run to a later blocked one', () => {
    const published = runFixture({ runId: 'a', status: 'published', startedAt: at(1) });
    const blocked = runFixture({ runId: 'b', status: 'blocked', startedAt: at(5) });
    expect(chooseAuditRun([blocked, published])?.runId).toBe('a');
  });

  it('takes the latest of equal status, and a gated or blocked run before a computing one', () => {
    const runs = [
      runFixture({ runId: 'old', status: 'published', startedAt: at(1) }),
      runFixture({ runId: 'new', status: 'published', startedAt: at(3) }),
    ];
    expect(chooseAuditRun(runs)?.runId).toBe('new');
    const unpublished = [
      runFixture({ runId: 'computing', status: 'computing', startedAt: at(6) }),
      runFixture({ runId: 'gated', status: 'gated', startedAt: at(2) }),
    ];
    expect(chooseAuditRun(unpublished)?.runId).toBe('gated');
  });

  it('skips runs without reconciliation rows', () => {
    const runs = [
      runFixture({ runId: 'empty', status: 'published', reconciledWindows: 0 }),
      runFixture({ runId: 'reconciled', status: 'computing' }),
    ];
    expect(chooseAuditRun(runs)?.runId).toBe('reconciled');
    expect(chooseAuditRun([runFixture({ reconciledWindows: 0 })])).toBeUndefined();
    expect(chooseAuditRun([])).toBeUndefined();
  });
});

describe('chooseQualityRun', () => {
  it('takes the latest run the gate checked, whatever its status', () => {
    const runs = [
      runFixture({ runId: 'published', startedAt: new Date('2026-11-23T01:00:00Z') }),
      runFixture({
        runId: 'blocked',
        status: 'blocked',
        startedAt: new Date('2026-11-23T09:00:00Z'),
      }),
      runFixture({
        runId: 'computing',
        status: 'computing',
        startedAt: new Date('2026-11-23T10:00:00Z'),
        qualityResults: 0,
      }),
    ];
    expect(chooseQualityRun(runs)?.runId).toBe('blocked');
  });
});

describe('describeRun', () => {
  it('names the id, status, reason and cutoff', () => {
    expect(describeRun(runFixture())).toBe(
      'run run-1 (published), reason "nightly", cutoff 2026-11-23 00:30:00Z',
    );
  });
});
