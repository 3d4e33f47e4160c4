import { RECONCILIATION_CAUSES } from '@tidemark/workflows';
import { describe, expect, it } from 'vitest';
import { buildAuditReport } from './audit-report';
import {
  escapeHtml,
  formatKeyValues,
  formatValue,
  formatWindow,
  renderAuditHtml,
  renderAuditJson,
  renderAuditTable,
  renderChartSvg,
  roundUp,
} from './render-audit';
import { entryFixture, runFixture } from './test-fixtures';

const run = runFixture({ reason: 'backfill <after fix>' });
const report = buildAuditReport(run, [
  entryFixture(0, 'EUR', 5, 5),
  entryFixture(1, 'EUR', 4, 6),
  entryFixture(2, 'USD', null, 3, {
    cause: 'late_beyond_lateness',
    explanation: '3 late changes of shop.orders (+3)',
  }),
]);
const empty = buildAuditReport(run, [], { metric: 'revenue_per_minute' });

describe('formatting', () => {
  it('rounds values, shows none as -, keys as key=value', () => {
    expect(formatValue(null)).toBe('-');
    expect(formatValue(12)).toBe('12');
    expect(formatValue(0.1 + 0.2)).toBe('0.3');
    expect(formatKeyValues(['EUR', 3], ['currency', 'shard'])).toBe('currency=EUR, shard=3');
    expect(formatKeyValues(['EUR', null], ['currency'])).toBe('currency=EUR, 1=null');
    expect(formatKeyValues({ method: 'card' }, [])).toBe('method=card');
    expect(formatKeyValues([], [])).toBe('-');
  });

  it('shows a window with the end date only when it is another day', () => {
    const start = new Date('2026-11-22T10:00:00Z');
    expect(formatWindow(start, new Date('2026-11-22T10:01:00Z'))).toBe('2026-11-22 10:00-10:01');
    expect(formatWindow(new Date('2026-11-22T23:50:00Z'), new Date('2026-11-23T00:20:12Z'))).toBe(
      '2026-11-22 23:50:00-2026-11-23 00:20:12',
    );
  });
});

describe('renderAuditTable', () => {
  it('names the run, counts per metric and cause, and the largest differences', () => {
    const text = renderAuditTable(report);
    expect(text).toContain(
      'audit of 2026-11-22: run run-1 (published), reason "backfill <after fix>", cutoff 2026-11-23 00:30:00Z',
    );
    expect(text).toContain('3 windows reconciled (one per window and key): 1 exact, 2 different');
    expect(text).toMatch(/orders_per_minute +3 +1 +1 +0 +0 +0 +0 +1/);
    expect(text).toMatch(/total +3 +1 +1 +0 +0 +0 +0 +1/);
    const differences = text.slice(text.indexOf('largest differences'));
    expect(differences).toMatch(
      /orders_per_minute +2026-11-22 10:02-10:03 +currency=USD +- +3 +- +late_beyond_lateness +3 late changes of shop.orders \(\+3\)/,
    );
    expect(differences.indexOf('10:02-10:03')).toBeLessThan(differences.indexOf('10:01-10:02'));
  });

  it('says so when nothing was reconciled', () => {
    const text = renderAuditTable(empty);
    expect(text).toContain('no windows reconciled for revenue_per_minute in this run');
    expect(text).toMatch(/revenue_per_minute +0 +0 +0 +0 +0 +0 +0 +0/);
    expect(text).not.toContain('total');
  });
});

describe('renderAuditJson', () => {
  it('counts every cause, those at 0 included, for the day and each metric', () => {
    const json = JSON.parse(renderAuditJson(report));
    expect(json.run).toMatchObject({
      runId: 'run-1',
      status: 'published',
      reason: 'backfill <after fix>',
      cutoff: '2026-11-23T00:30:00.000Z',
    });
    expect(json.causes).toEqual({
      exact: 1,
      late_beyond_lateness: 1,
      changed_after_close: 0,
      truncated: 0,
      kafka_gap: 0,
      dead_lettered: 0,
      unexplained: 1,
    });
    for (const metric of json.metrics) {
      expect(Object.keys(metric.causes).sort()).toEqual([...RECONCILIATION_CAUSES].sort());
    }
    expect(json.metrics[0].largestDifferences[0]).toEqual({
      windowStart: '2026-11-22T10:02:00.000Z',
      windowEnd: '2026-11-22T10:03:00.000Z',
      key: { currency: 'USD' },
      provisional: null,
      final: 3,
      difference: null,
      cause: 'late_beyond_lateness',
      explanation: '3 late changes of shop.orders (+3)',
    });
  });

  it('still names every cause for an empty reconciliation', () => {
    const json = JSON.parse(renderAuditJson(empty));
    expect(json).toMatchObject({ metric: 'revenue_per_minute', windows: 0, different: 0 });
    expect(json.causes).toEqual(Object.fromEntries(RECONCILIATION_CAUSES.map((c) => [c, 0])));
    expect(json.causes.unexplained).toBe(0);
  });
});

describe('renderChartSvg', () => {
  const chartOf = (entries: Parameters<typeof buildAuditReport>[1]) =>
    renderChartSvg(buildAuditReport(run, entries).metrics[0]!, run.rangeStart, run.rangeEnd);
  const path = (svg: string, side: string) =>
    new RegExp(`<path class="${side}" d="([^"]*)"`).exec(svg)?.[1] ?? '';

  it('rounds the axis up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect([0.361, 16_622, 5, 7, 0.02, 0].map(roundUp)).toEqual([0.5, 20_000, 5, 10, 0.02, 0]);
  });

  it('joins consecutive windows, breaks at missing windows and missing values', () => {
    const svg = chartOf([
      entryFixture(0, 'EUR', 1, 1),
      entryFixture(1, 'EUR', 2, 2),
      entryFixture(5, 'EUR', 3, 3),
      entryFixture(6, 'EUR', null, 4),
    ]);
    expect(path(svg, 'final').match(/M/g)).toHaveLength(2);
    expect(path(svg, 'final')).not.toContain('h0');
    // Provisional: 10:00-10:01 joined, 10:05 alone (a dot), 10:06 has none.
    expect(path(svg, 'provisional')).toMatch(/^M[\d. ]+L[\d. ]+M[\d. ]+h0$/);
  });

  it('marks the windows that differ, with their values', () => {
    const svg = chartOf([entryFixture(0, 'EUR', 1, 1), entryFixture(1, 'EUR', 2, 5)]);
    expect(svg.match(/<circle class="different"/g)).toHaveLength(1);
    expect(svg).toContain(
      '<title>2026-11-22 10:01:00Z: provisional 2, final 5; 1 window different</title>',
    );
  });
});

describe('renderAuditHtml', () => {
  it('escapes text', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });

  it('is self-contained: inline style and svg, no script, nothing fetched', () => {
    const html = renderAuditHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|url\(|@import|https?:/i);
    // One chart per metric that has windows.
    expect(html.match(/<svg class="chart"/g)).toHaveLength(1);
    expect(html).toContain('<path class="final" d="M');
    expect(html).toContain('Nothing to chart: no windows reconciled.');
    expect(html).toContain('run-1');
    expect(html).toContain('2026-11-23 00:30:00Z');
    expect(html).toContain('backfill &lt;after fix&gt;');
    expect(html).toContain('y: the window&#39;s count: the sum over currency');
    expect(html).toContain('<td>3 late changes of shop.orders (+3)</td>');
  });

  it('escapes key values, wherever they appear', () => {
    const hostile = buildAuditReport(run, [entryFixture(0, '<script>alert("x")</script>', 1, 2)]);
    const html = renderAuditHtml(hostile);
    expect(html).not.toContain('<script');
    expect(html).toContain('currency=&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('renders an empty reconciliation', () => {
    const html = renderAuditHtml(empty);
    expect(html).toContain('no windows reconciled for revenue_per_minute in this run');
    expect(html).not.toContain('<svg class="chart"');
    expect(html).toContain('</html>');
  });
});
