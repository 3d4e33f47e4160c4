import { describe, expect, it } from 'vitest';
import {
  BackfillInputError,
  dayAt,
  dayCount,
  finishedDays,
  initialProgress,
  isDay,
  MAX_BACKFILL_DAYS,
  progressBar,
  validateBackfillRequest,
  type BackfillReport,
} from './backfill-plan';

function problem(request: Parameters<typeof validateBackfillRequest>[0]): string {
  try {
    validateBackfillRequest(request);
  } catch (error) {
    expect(error).toBeInstanceOf(BackfillInputError);
    return (error as Error).message;
  }
  return 'valid';
}

describe('backfill days', () => {
  it('counts and walks days across months, leap days and years', () => {
    expect(dayCount('2024-02-27', '2024-03-01')).toBe(4);
    expect(dayAt('2024-02-27', 2)).toBe('2024-02-29');
    expect(dayAt('2025-12-31', 1)).toBe('2026-01-01');
    expect(dayCount('2026-01-01', '2026-12-31')).toBe(365);
    expect(dayAt('1948-03-01', 29)).toBe('1948-03-30');
  });

  it('knows a calendar day from text that only looks like one', () => {
    expect(isDay('2024-02-29')).toBe(true);
    expect(isDay('2026-02-29')).toBe(false);
    expect(isDay('2026-13-01')).toBe(false);
    expect(isDay('2026-1-01')).toBe(false);
    expect(isDay('yesterday')).toBe(false);
  });
});

describe('validateBackfillRequest', () => {
  it('accepts a range of one day and more', () => {
    expect(problem({ from: '2026-01-01', to: '2026-01-01' })).toBe('valid');
    expect(problem({ from: '2026-01-01', to: '2026-03-31', concurrency: 8 })).toBe('valid');
  });

  it('names the field that is wrong', () => {
    expect(problem({ from: '2026-02-30', to: '2026-03-01' })).toMatch(/^from: not a day/);
    expect(problem({ from: '2026-03-01', to: 'soon' })).toMatch(/^to: not a day/);
    expect(problem({ from: '2026-03-02', to: '2026-03-01' })).toMatch(/^to: .*before from/);
    expect(problem({ from: '2026-01-01', to: '2026-01-02', concurrency: 0 })).toMatch(
      /^concurrency:/,
    );
    expect(problem({ from: '2026-01-01', to: '2026-01-02', concurrency: 1.5 })).toMatch(
      /^concurrency:/,
    );
    expect(problem({ from: '2026-01-01', to: '2026-01-02', concurrency: 65 })).toMatch(
      /^concurrency: at most 64/,
    );
  });

  it('refuses a range longer than ten years (a typo in a year)', () => {
    expect(problem({ from: '2016-01-01', to: '2026-01-06' })).toBe('valid');
    const tooLong = problem({ from: '1026-01-01', to: '2026-01-01' });
    expect(tooLong).toMatch(new RegExp(`more than ${MAX_BACKFILL_DAYS}`));
  });
});

describe('progress', () => {
  const report = (overrides: Partial<BackfillReport>): BackfillReport => ({
    ...initialProgress(20),
    backfillId: 'b',
    from: '2026-01-01',
    to: '2026-01-20',
    metrics: [],
    concurrency: 4,
    reason: 'test',
    asOf: '2026-02-01T00:00:00.000Z',
    status: 'running',
    running: [],
    ...overrides,
  });

  it('counts failed days as finished', () => {
    expect(
      finishedDays(report({ succeeded: 6, failed: [{ day: 'd', type: 't', message: 'm' }] })),
    ).toBe(7);
  });

  it('draws a bar with the share done, failures, days running and the status', () => {
    const line = progressBar(
      report({
        succeeded: 6,
        failed: [{ day: '2026-01-03', type: 'QUALITY_GATE_FAILED', message: 'm' }],
        running: ['2026-01-08', '2026-01-09'],
      }),
      20,
    );
    expect(line).toBe('[#######.............]  35%  7/20 days, 1 failed, 2 running  running');
    expect(progressBar(report({ succeeded: 20, status: 'completed' }), 10)).toBe(
      '[##########] 100%  20/20 days  completed',
    );
  });
});
