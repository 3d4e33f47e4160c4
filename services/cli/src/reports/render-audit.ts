import { RECONCILIATION_CAUSES } from '@tidemark/workflows';
import { renderTable } from '../table';
import type {
  AuditReport,
  ChartPoint,
  MetricAudit,
  ReconciliationEntry,
  ReconciliationTotals,
} from './audit-report';
import { describeRun, formatTime, runJson } from './runs';

/** A value as reports print it: at most 6 decimals, `-` for none. */
export function formatValue(value: number | null): string {
  return value === null ? '-' : String(Number(value.toFixed(6)));
}

/**
 * Key values with their names. They are stored as a JSON array in the order of the metric's
 * keys; a position without a known name (a metric no longer in the catalogue) is named by its
 * index.
 */
export function keyPairs(keyValues: unknown, keys: readonly string[]): [string, unknown][] {
  if (Array.isArray(keyValues)) {
    return keyValues.map((value, index) => [keys[index] ?? String(index), value]);
  }
  if (keyValues !== null && typeof keyValues === 'object') return Object.entries(keyValues);
  return keyValues === null || keyValues === undefined ? [] : [['0', keyValues]];
}

/** Key values as `currency=EUR, method=card`; `-` for a metric without keys. */
export function formatKeyValues(keyValues: unknown, keys: readonly string[]): string {
  const pairs = keyPairs(keyValues, keys).map(
    ([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  return pairs.length > 0 ? pairs.join(', ') : '-';
}

function clock(time: Date, seconds: boolean): string {
  return time.toISOString().slice(11, seconds ? 19 : 16);
}

/** A window as `2026-11-22 10:00-10:01`, with the end's date only when it is another day. */
export function formatWindow(start: Date, end: Date): string {
  const startDay = start.toISOString().slice(0, 10);
  const endDay = end.toISOString().slice(0, 10);
  const seconds = start.getUTCSeconds() !== 0 || end.getUTCSeconds() !== 0;
  return `${startDay} ${clock(start, seconds)}-${endDay === startDay ? '' : `${endDay} `}${clock(end, seconds)}`;
}

/** A number for a table: rounded like formatValue, or `-` (the column then aligns left). */
function tableValue(value: number | null): number | string {
  return value === null ? '-' : Number(value.toFixed(6));
}

function headline(report: AuditReport): string[] {
  const scope = report.metric === undefined ? '' : ` (metric ${report.metric})`;
  return [
    `audit of ${report.run.day}${scope}: ${describeRun(report.run)}`,
    report.windows === 0
      ? `no windows reconciled${report.metric === undefined ? '' : ` for ${report.metric}`} in this run`
      : `${report.windows} window${report.windows === 1 ? '' : 's'} reconciled (one per window and key): ${report.exact} exact, ${report.different} different`,
  ];
}

function causeRow(label: string, totals: ReconciliationTotals): (string | number)[] {
  return [label, totals.windows, ...RECONCILIATION_CAUSES.map((cause) => totals.causes[cause])];
}

/** The report as text: the run, counts per metric and cause, the largest differences. */
export function renderAuditTable(report: AuditReport): string {
  const lines = headline(report);
  lines.push(
    '',
    renderTable(
      ['metric', 'windows', ...RECONCILIATION_CAUSES],
      [
        ...report.metrics.map((metric) => causeRow(metric.metric, metric)),
        ...(report.metrics.length > 1 ? [causeRow('total', report)] : []),
      ],
    ),
    '',
  );
  const differences = report.metrics.flatMap((metric) =>
    metric.largestDifferences.map((entry) => [
      metric.metric,
      formatWindow(entry.windowStart, entry.windowEnd),
      formatKeyValues(entry.keyValues, metric.keys),
      tableValue(entry.provisional),
      tableValue(entry.final),
      tableValue(entry.difference),
      entry.cause,
      entry.explanation ?? '',
    ]),
  );
  if (differences.length === 0) {
    lines.push(report.windows === 0 ? 'no differences' : 'no differences: every window is exact');
  } else {
    lines.push(
      `largest differences, up to ${report.largestPerMetric} per metric (difference = final - provisional; "-" where one side has no value)`,
      '',
      renderTable(
        ['metric', 'window', 'key', 'provisional', 'final', 'difference', 'cause', 'explanation'],
        differences,
      ),
    );
  }
  return lines.join('\n');
}

function entryJson(entry: ReconciliationEntry, keys: readonly string[]) {
  return {
    windowStart: entry.windowStart.toISOString(),
    windowEnd: entry.windowEnd.toISOString(),
    key: Object.fromEntries(keyPairs(entry.keyValues, keys)),
    provisional: entry.provisional,
    final: entry.final,
    difference: entry.difference,
    cause: entry.cause,
    explanation: entry.explanation,
  };
}

function totalsJson(totals: ReconciliationTotals) {
  return {
    windows: totals.windows,
    exact: totals.exact,
    different: totals.different,
    causes: { ...totals.causes },
  };
}

/** The report as JSON: counts name every cause, also those at 0. */
export function renderAuditJson(report: AuditReport): string {
  return JSON.stringify(
    {
      day: report.run.day,
      run: runJson(report.run),
      metric: report.metric ?? null,
      ...totalsJson(report),
      metrics: report.metrics.map((metric) => ({
        metric: metric.metric,
        aggregate: metric.aggregate ?? null,
        keys: metric.keys,
        ...totalsJson(metric),
        largestDifferences: metric.largestDifferences.map((entry) => entryJson(entry, metric.keys)),
      })),
    },
    null,
    2,
  );
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe inside HTML and SVG elements and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

const CHART = { width: 960, height: 280, left: 72, right: 16, top: 16, bottom: 32 } as const;

/** The smallest step between consecutive points: a wider gap has no window, so no line. */
function pointStep(points: readonly ChartPoint[]): number {
  let step = Infinity;
  for (let index = 1; index < points.length; index += 1) {
    const gap = (points[index]?.start.getTime() ?? 0) - (points[index - 1]?.start.getTime() ?? 0);
    if (gap > 0) step = Math.min(step, gap);
  }
  return step;
}

/**
 * A path through the points that have a value, broken where one has none or windows are
 * missing; a point alone is a zero-length segment, drawn as a dot by its round line cap.
 */
function linePath(
  points: readonly ChartPoint[],
  side: 'provisional' | 'final',
  x: (time: Date) => number,
  y: (value: number) => number,
): string {
  const step = pointStep(points);
  const segments: string[][] = [];
  let previous: ChartPoint | undefined;
  for (const point of points) {
    const value = point[side];
    if (value !== null) {
      const joined =
        previous !== undefined &&
        previous[side] !== null &&
        point.start.getTime() - previous.start.getTime() <= step;
      const at = `${x(point.start).toFixed(1)} ${y(value).toFixed(1)}`;
      if (joined) segments.at(-1)?.push(at);
      else segments.push([at]);
    }
    previous = point;
  }
  return segments
    .map(([first, ...rest]) => (rest.length > 0 ? `M${first}L${rest.join('L')}` : `M${first}h0`))
    .join('');
}

/** The smallest of 1, 2, 2.5 or 5 times a power of ten at least `value`: a round axis end. */
export function roundUp(value: number): number {
  if (value <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  const factor = [1, 2, 2.5, 5, 10].find((candidate) => candidate * power >= value * (1 - 1e-12));
  return (factor ?? 10) * power;
}

/** An inline SVG line chart of provisional against final per window over the run's range. */
export function renderChartSvg(metric: MetricAudit, rangeStart: Date, rangeEnd: Date): string {
  const { points } = metric.chart;
  const { width, height, left, right, top, bottom } = CHART;
  const values = points.flatMap((point) =>
    [point.provisional, point.final].filter((value) => value !== null),
  );
  const low = -roundUp(-Math.min(0, ...values));
  const high = roundUp(Math.max(0, ...values));
  const span = high - low || 1;
  const startMs = rangeStart.getTime();
  const rangeMs = Math.max(1, rangeEnd.getTime() - startMs);
  const x = (time: Date) => left + ((time.getTime() - startMs) / rangeMs) * (width - left - right);
  const y = (value: number) => top + (1 - (value - low) / span) * (height - top - bottom);

  const yTicks = [low, low + span / 2, high]
    .map(
      (value) =>
        `<line class="grid" x1="${left}" x2="${width - right}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}"/>` +
        `<text class="tick" x="${left - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(formatValue(value))}</text>`,
    )
    .join('');
  const xTicks: string[] = [];
  const tickMs = 3 * 3_600_000;
  for (let time = startMs; time <= rangeEnd.getTime(); time += tickMs) {
    const at = new Date(time);
    xTicks.push(
      `<text class="tick" x="${x(at).toFixed(1)}" y="${height - 10}" text-anchor="middle">${clock(at, false)}</text>`,
    );
  }
  const markers = points
    .filter((point) => point.different > 0)
    .map((point) => {
      const value = point.final ?? point.provisional ?? 0;
      const label = `${formatTime(point.start)}: provisional ${formatValue(point.provisional)}, final ${formatValue(point.final)}; ${point.different} window${point.different === 1 ? '' : 's'} different`;
      return `<circle class="different" cx="${x(point.start).toFixed(1)}" cy="${y(value).toFixed(1)}" r="3"><title>${escapeHtml(label)}</title></circle>`;
    })
    .join('');
  const label = `${metric.metric}: provisional and final per ${metric.chart.hourly ? 'hour' : 'window'}`;
  return [
    `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}">`,
    yTicks,
    xTicks.join(''),
    `<path class="final" d="${linePath(points, 'final', x, y)}"/>`,
    `<path class="provisional" d="${linePath(points, 'provisional', x, y)}"/>`,
    markers,
    '</svg>',
  ].join('');
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2.5rem; border-bottom: 1px solid #d9e2ec; padding-bottom: .25rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dt { color: #52606d; }
dd { margin: 0; font-family: ui-monospace, monospace; }
table { border-collapse: collapse; margin: .75rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e7eb; text-align: left; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #9aa5b1; }
td.unexplained { color: #c62828; font-weight: 600; }
.note { color: #52606d; font-size: .9rem; }
.legend span { display: inline-block; margin-right: 1.25rem; }
.swatch { display: inline-block; width: 1.5rem; height: 0; vertical-align: middle; margin-right: .35rem; border-top: 2px solid; }
svg.chart { width: 100%; height: auto; background: #fbfcfd; border: 1px solid #e4e7eb; }
svg .grid { stroke: #e4e7eb; }
svg .tick { font-size: 11px; fill: #7b8794; }
svg .final, .swatch.final { fill: none; stroke: #1f6feb; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; border-top-color: #1f6feb; }
svg .provisional, .swatch.provisional { fill: none; stroke: #e8860c; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; stroke-dasharray: 5 4; border-top-style: dashed; border-top-color: #e8860c; }
svg .different { fill: #c62828; }
`;

function countCell(value: number, alarming = false): string {
  const kind = value === 0 ? ' zero' : alarming ? ' unexplained' : '';
  return `<td class="number${kind}">${value}</td>`;
}

function causeTableHtml(report: AuditReport): string {
  const row = (label: string, totals: ReconciliationTotals) =>
    `<tr><th scope="row">${escapeHtml(label)}</th>${countCell(totals.windows)}${RECONCILIATION_CAUSES.map((cause) => countCell(totals.causes[cause], cause === 'unexplained')).join('')}</tr>`;
  return [
    '<table class="causes"><thead><tr><th>metric</th><th class="number">windows</th>',
    ...RECONCILIATION_CAUSES.map((cause) => `<th class="number">${escapeHtml(cause)}</th>`),
    '</tr></thead><tbody>',
    ...report.metrics.map((metric) => row(metric.metric, metric)),
    ...(report.metrics.length > 1 ? [row('total', report)] : []),
    '</tbody></table>',
  ].join('');
}

function differencesHtml(metric: MetricAudit): string {
  if (metric.largestDifferences.length === 0) {
    return `<p class="note">${metric.windows === 0 ? 'No windows reconciled.' : 'No differences: every window is exact.'}</p>`;
  }
  const rows = metric.largestDifferences.map(
    (entry) =>
      `<tr><td>${escapeHtml(formatWindow(entry.windowStart, entry.windowEnd))}</td><td>${escapeHtml(formatKeyValues(entry.keyValues, metric.keys))}</td>` +
      `<td class="number">${formatValue(entry.provisional)}</td><td class="number">${formatValue(entry.final)}</td>` +
      `<td class="number">${formatValue(entry.difference)}</td><td class="${escapeHtml(entry.cause)}">${escapeHtml(entry.cause)}</td>` +
      `<td>${escapeHtml(entry.explanation ?? '')}</td></tr>`,
  );
  return [
    `<h3>Largest differences (${metric.largestDifferences.length} of ${metric.different})</h3>`,
    '<p class="note">difference = final - provisional; "-" where one side has no value.</p>',
    '<table><thead><tr><th>window</th><th>key</th><th class="number">provisional</th><th class="number">final</th>',
    '<th class="number">difference</th><th>cause</th><th>explanation</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ].join('');
}

function metricHtml(metric: MetricAudit, report: AuditReport): string {
  const causes = RECONCILIATION_CAUSES.filter((cause) => cause !== 'exact')
    .map((cause) => `${metric.causes[cause]} ${cause}`)
    .join(', ');
  const chart =
    metric.chart.points.length === 0
      ? '<p class="note">Nothing to chart: no windows reconciled.</p>'
      : [
          '<p class="legend"><span><i class="swatch final"></i>final</span><span><i class="swatch provisional"></i>provisional</span>',
          '<span><svg width="10" height="10" aria-hidden="true"><circle cx="5" cy="5" r="3" fill="#c62828"/></svg> windows that differ</span></p>',
          renderChartSvg(metric, report.run.rangeStart, report.run.rangeEnd),
          `<p class="note">y: ${escapeHtml(metric.chart.y)}. x: the window start, ${escapeHtml(formatTime(report.run.rangeStart))} to ${escapeHtml(formatTime(report.run.rangeEnd))} (UTC).</p>`,
        ].join('');
  return [
    `<section><h2>${escapeHtml(metric.metric)}</h2>`,
    `<p>${escapeHtml(metric.aggregate ?? 'not in the catalogue')} by ${escapeHtml(metric.keys.join(', ') || 'no key')}: `,
    `${metric.windows} windows, ${metric.exact} exact, ${metric.different} different (${escapeHtml(causes)}).</p>`,
    chart,
    differencesHtml(metric),
    '</section>',
  ].join('');
}

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.
 * Each metric gets a chart of provisional against final per window.
 */
export function renderAuditHtml(report: AuditReport): string {
  const { run } = report;
  const title = `tidemark audit of ${run.day}${report.metric === undefined ? '' : ` (${report.metric})`}`;
  const facts: [string, string][] = [
    ['run', run.runId],
    ['status', run.status],
    ['reason', run.reason],
    ['cutoff', formatTime(run.cutoff)],
    ['range', `${formatTime(run.rangeStart)} to ${formatTime(run.rangeEnd)}`],
    ['workflow', run.workflowId],
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<dl>${facts.map(([name, value]) => `<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`,
    `<p>${escapeHtml(headline(report)[1] ?? '')}.</p>`,
    causeTableHtml(report),
    '<p class="note">A window here is one window of one key. exact: provisional equals final. ',
    'late_beyond_lateness / changed_after_close: the stream kept contributions out as too late, or as changes to a closed window, and they account for the difference: ',
    'a window&#39;s provisional state plus them gives the final value; a key&#39;s final events without them make its provisional sessions. ',
    'truncated / kafka_gap: the same, for rows a truncate removed and changes Kafka deleted before the pipeline read them. ',
    'dead_lettered: the same, for dead letters replayed after their window closed. unexplained: nothing kept out accounts for it (the explanation says what was compared); the platform aims to keep it at 0. ',
    'Charts plot, per metric, one y per window made from its per-key values, as each chart says; differences are listed per metric, as metrics do not share a unit.</p>',
    ...report.metrics.map((metric) => metricHtml(metric, report)),
    '</body></html>',
    '',
  ].join('\n');
}
