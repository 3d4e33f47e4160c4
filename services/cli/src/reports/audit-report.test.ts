import {
  customerSessions,
  METRICS,
  ordersPerMinute,
  paymentFailureRate,
} from '@tidemark/contracts';
import { RECONCILIATION_CAUSES } from '@tidemark/workflows';
import { describe, expect, it } from 'vitest';
import { buildAuditReport, differenceMagnitude, largestDifferences } from './audit-report';
import { entryFixture, runFixture } from './test-fixtures';

const run = runFixture();

describe('buildAuditReport', () => {
  it('counts windows exact and different by cause, every cause present', () => {
    const report = buildAuditReport(run, [
      entryFixture(0, 'EUR', 5, 5),
      entryFixture(0, 'USD', 2, 3, { cause: 'late_beyond_lateness' }),
      entryFixture(1, 'EUR', 4, 6),
    ]);
    expect(report).toMatchObject({ windows: 3, exact: 1, different: 2 });
    expect(report.causes).toEqual({
      exact: 1,
      late_beyond_lateness: 1,
      changed_after_close: 0,
      truncated: 0,
      kafka_gap: 0,
      dead_lettered: 0,
      unexplained: 1,
    });
    expect(Object.keys(report.causes)).toEqual([...RECONCILIATION_CAUSES]);
  });

  it('lists every catalogue metric, those without windows too, then unknown ones', () => {
    const report = buildAuditReport(run, [
      entryFixture(0, 'EUR', 1, 1),
      entryFixture(0, 'EUR', 1, 2, { metric: 'retired_metric' }),
    ]);
    expect(report.metrics.map((metric) => metric.metric)).toEqual([
      ...METRICS.map((metric) => metric.name),
      'retired_metric',
    ]);
    const revenue = report.metrics.find((metric) => metric.metric === 'revenue_per_minute');
    expect(revenue).toMatchObject({ windows: 0, exact: 0, different: 0, largestDifferences: [] });
    expect(revenue?.chart.points).toEqual([]);
    const retired = report.metrics.at(-1);
    expect(retired).toMatchObject({ aggregate: undefined, keys: [], windows: 1 });
    expect(retired?.chart.y).toMatch(
      /^the mean of the per-key values .*no longer in the catalogue/,
    );
  });

  it('keeps only the metric asked for', () => {
    const report = buildAuditReport(
      run,
      [entryFixture(0, 'EUR', 1, 2), entryFixture(0, 'card', 1, 1, { metric: 'other' })],
      { metric: 'orders_per_minute' },
    );
    expect(report.metric).toBe('orders_per_minute');
    expect(report.metrics.map((metric) => metric.metric)).toEqual(['orders_per_minute']);
    expect(report.windows).toBe(1);
  });

  it('reports an empty reconciliation with zero counts', () => {
    const report = buildAuditReport(run, [], { metric: 'customer_sessions' });
    expect(report).toMatchObject({ windows: 0, exact: 0, different: 0 });
    expect(Object.values(report.causes)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(report.metrics[0]?.chart.points).toEqual([]);
  });

  it('charts a count as the sum over keys per window, a side without values as none', () => {
    const report = buildAuditReport(
      run,
      [
        entryFixture(0, 'EUR', 5, 5),
        entryFixture(0, 'USD', 2, 3),
        entryFixture(1, 'EUR', null, 4),
        entryFixture(2, 'EUR', 1, null),
        entryFixture(2, 'USD', 2, 2),
      ],
      { definitions: [ordersPerMinute] },
    );
    const chart = report.metrics[0]?.chart;
    expect(chart?.hourly).toBe(false);
    expect(chart?.y).toContain('the sum over currency');
    expect(
      chart?.points.map(({ provisional, final, different }) => [provisional, final, different]),
    ).toEqual([
      [7, 8, 1],
      [null, 4, 1],
      [3, 2, 1],
    ]);
  });

  it('charts an average as the mean over keys and says so', () => {
    const at = (method: string, provisional: number, final: number) =>
      entryFixture(0, method, provisional, final, {
        metric: paymentFailureRate.name,
        keyValues: [method],
      });
    const report = buildAuditReport(run, [at('card', 0.1, 0.1), at('paypal', 0.3, 0.5)], {
      definitions: [paymentFailureRate],
    });
    const chart = report.metrics[0]?.chart;
    expect(chart?.y).toMatch(/mean of the per-method values/);
    expect(chart?.points[0]?.provisional).toBeCloseTo(0.2);
    expect(chart?.points[0]?.final).toBeCloseTo(0.3);
  });

  it('charts session windows per hour of their start', () => {
    const session = (minute: number, customer: string, value: number) =>
      entryFixture(minute, customer, value, value, {
        metric: customerSessions.name,
        keyValues: [customer],
        windowEnd: new Date(Date.UTC(2026, 10, 22, 11, minute)),
      });
    const report = buildAuditReport(
      run,
      [session(3, 'a', 2), session(41, 'b', 3), session(70, 'c', 1)],
      { definitions: [customerSessions] },
    );
    const chart = report.metrics[0]?.chart;
    expect(chart?.hourly).toBe(true);
    expect(chart?.points.map((point) => [point.start.toISOString(), point.final])).toEqual([
      ['2026-11-22T10:00:00.000Z', 5],
      ['2026-11-22T11:00:00.000Z', 1],
    ]);
  });
});

describe('largestDifferences', () => {
  it('sorts differing windows by |difference|, a missing side counting as nothing', () => {
    const entries = [
      entryFixture(0, 'EUR', 10, 10),
      entryFixture(1, 'EUR', 10, 12),
      entryFixture(2, 'EUR', 10, 3),
      entryFixture(3, 'EUR', null, 5),
      entryFixture(4, 'EUR', 4, null),
    ];
    expect(differenceMagnitude(entries[3]!)).toBe(5);
    expect(differenceMagnitude(entries[4]!)).toBe(4);
    const largest = largestDifferences(entries, 10);
    expect(largest.map((entry) => entry.windowStart.getUTCMinutes())).toEqual([2, 3, 4, 1]);
    expect(largestDifferences(entries, 2)).toHaveLength(2);
  });

  it('breaks ties by window then key, so reports are stable', () => {
    const entries = [
      entryFixture(1, 'USD', 1, 2),
      entryFixture(1, 'EUR', 1, 2),
      entryFixture(0, 'USD', 2, 1),
    ];
    expect(
      largestDifferences(entries, 10).map((entry) => [
        entry.windowStart.getUTCMinutes(),
        (entry.keyValues as string[])[0],
      ]),
    ).toEqual([
      [0, 'USD'],
      [1, 'EUR'],
      [1, 'USD'],
    ]);
  });
});
