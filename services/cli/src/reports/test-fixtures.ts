import type { ReconciliationEntry } from './audit-report';
import type { RunOfDay } from './runs';

/** A published run of 2026-11-22 for report tests; fields overridable. */
export function runFixture(overrides: Partial<RunOfDay> = {}): RunOfDay {
  return {
    runId: 'run-1',
    workflowId: 'consolidate-2026-11-22',
    day: '2026-11-22',
    status: 'published',
    reason: 'nightly',
    rangeStart: new Date('2026-11-22T00:00:00Z'),
    rangeEnd: new Date('2026-11-23T00:00:00Z'),
    cutoff: new Date('2026-11-23T00:30:00Z'),
    startedAt: new Date('2026-11-23T01:00:00Z'),
    finishedAt: new Date('2026-11-23T01:05:00Z'),
    reconciledWindows: 1,
    qualityResults: 1,
    ...overrides,
  };
}

/** One reconciled window of orders_per_minute at 10:<minute> for a currency. */
export function entryFixture(
  minute: number,
  currency: string,
  provisional: number | null,
  final: number | null,
  overrides: Partial<ReconciliationEntry> = {},
): ReconciliationEntry {
  const windowStart = new Date(Date.UTC(2026, 10, 22, 10, minute));
  return {
    metric: 'orders_per_minute',
    windowStart,
    windowEnd: new Date(windowStart.getTime() + 60_000),
    keyValues: [currency],
    provisional,
    final,
    difference: provisional === null || final === null ? null : final - provisional,
    cause: provisional === final ? 'exact' : 'unexplained',
    explanation: null,
    ...overrides,
  };
}
