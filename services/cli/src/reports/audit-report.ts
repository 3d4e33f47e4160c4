import { METRICS, type AggregateFunction, type MetricDefinition } from '@tidemark/contracts';
import { RECONCILIATION_CAUSES, type ReconciliationCause } from '@tidemark/workflows';
import type { RunSummary } from './runs';

/** One reconciled (metric, window, key): a row of audit.reconciliation. */
export interface ReconciliationEntry {
  metric: string;
  windowStart: Date;
  windowEnd: Date;
  /** The key's values as stored: a JSON array in the order of the metric's keys. */
  keyValues: unknown;
  provisional: number | null;
  final: number | null;
  difference: number | null;
  cause: ReconciliationCause;
  /** What explains the difference (the contributions the stream kept out), or what was compared. */
  explanation: string | null;
}

export type CauseCounts = Record<ReconciliationCause, number>;

/** Reconciled windows (one per window and key) counted: exact, different, and per cause. */
export interface ReconciliationTotals {
  windows: number;
  exact: number;
  different: number;
  causes: CauseCounts;
}

/** One point of a metric's chart: a window (or an hour of session windows) on both sides. */
export interface ChartPoint {
  start: Date;
  provisional: number | null;
  final: number | null;
  /** Reconciled windows in the point whose values differ. */
  different: number;
}

/** What a metric's chart plots, and how its y was made from the per-key values. */
export interface MetricChart {
  /** How y is made from the per-key values, in a sentence for the reader. */
  y: string;
  /** True when points are hours of window starts rather than single windows. */
  hourly: boolean;
  points: ChartPoint[];
}

/** One metric's reconciliation. */
export interface MetricAudit extends ReconciliationTotals {
  metric: string;
  /** Undefined for a metric reconciled once but no longer in the catalogue. */
  aggregate: AggregateFunction | undefined;
  /** The names of the key values; none for a metric no longer in the catalogue. */
  keys: readonly string[];
  chart: MetricChart;
  /** The differing windows, largest |final - provisional| first. */
  largestDifferences: ReconciliationEntry[];
}

/** A day's reconciliation of provisional against final values, ready to render. */
export interface AuditReport extends ReconciliationTotals {
  run: RunSummary;
  /** The metric asked for with --metric, if any. */
  metric: string | undefined;
  metrics: MetricAudit[];
  /** At most this many of each metric's largest differences are kept. */
  largestPerMetric: number;
}

export interface AuditReportOptions {
  /** The metric definitions (default: the catalogue). */
  definitions?: readonly MetricDefinition[];
  /** Only this metric. */
  metric?: string;
  /** How many of the largest differences to keep per metric (default 10). */
  largest?: number;
}

const DEFAULT_LARGEST = 10;
const HOUR_MS = 3_600_000;
// Beyond this many windows a chart plots hours: more points than pixels say nothing more.
const MAX_CHART_POINTS = 1_500;

/** Zero of every cause, so that reports name each one even when nothing has it. */
export function emptyCauseCounts(): CauseCounts {
  return Object.fromEntries(RECONCILIATION_CAUSES.map((cause) => [cause, 0])) as CauseCounts;
}

function totalsOf(entries: readonly ReconciliationEntry[]): ReconciliationTotals {
  const causes = emptyCauseCounts();
  for (const entry of entries) causes[entry.cause] += 1;
  return {
    windows: entries.length,
    exact: causes.exact,
    different: entries.length - causes.exact,
    causes,
  };
}

/**
 * How far apart the two sides are: |difference|, or for a window only one side has, the value
 * it has (the other counts as nothing).
 */
export function differenceMagnitude(entry: ReconciliationEntry): number {
  if (entry.difference !== null) return Math.abs(entry.difference);
  return Math.abs((entry.final ?? 0) - (entry.provisional ?? 0));
}

function keyText(entry: ReconciliationEntry): string {
  return JSON.stringify(entry.keyValues);
}

/** The differing windows, largest first; ties in window order so the report is stable. */
export function largestDifferences(
  entries: readonly ReconciliationEntry[],
  count: number,
): ReconciliationEntry[] {
  return entries
    .filter((entry) => entry.cause !== 'exact')
    .sort(
      (a, b) =>
        differenceMagnitude(b) - differenceMagnitude(a) ||
        a.windowStart.getTime() - b.windowStart.getTime() ||
        a.windowEnd.getTime() - b.windowEnd.getTime() ||
        keyText(a).localeCompare(keyText(b)),
    )
    .slice(0, count);
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/**
 * How a chart's y combines the per-key values of a window: counts and sums add up to the
 * window's total; a min or max over keys is the window's min or max; averages and distinct
 * counts do not add up, so the chart shows their mean over keys.
 */
function chartMeasure(
  aggregate: AggregateFunction | undefined,
  keys: readonly string[],
): { combine: (values: readonly number[]) => number; y: string } {
  // A catalogue metric without keys has one value per window.
  if (aggregate !== undefined && keys.length === 0)
    return { combine: sum, y: `the window's value` };
  const over = keys.length > 0 ? keys.join(', ') : 'key';
  if (aggregate === 'count' || aggregate === 'sum') {
    return { combine: sum, y: `the window's ${aggregate}: the sum over ${over}` };
  }
  if (aggregate === 'min' || aggregate === 'max') {
    const pick = aggregate === 'min' ? Math.min : Math.max;
    return {
      combine: (values) => values.reduce((best, value) => pick(best, value)),
      y: `the window's ${aggregate}: the ${aggregate === 'min' ? 'smallest' : 'largest'} value over ${over}`,
    };
  }
  const why =
    aggregate === undefined
      ? 'the metric is no longer in the catalogue'
      : `${aggregate} does not add up over keys`;
  return {
    combine: (values) => sum(values) / values.length,
    y: `the mean of the per-${over} values (unweighted: ${why}), each side over the keys it has`,
  };
}

function chartOf(
  entries: readonly ReconciliationEntry[],
  definition: MetricDefinition | undefined,
  keys: readonly string[],
): MetricChart {
  const measure = chartMeasure(definition?.aggregate.fn, keys);
  const windows = new Set(entries.map((entry) => entry.windowStart.getTime()));
  const hourly = definition?.window.kind === 'session' || windows.size > MAX_CHART_POINTS;
  const groups = new Map<number, ReconciliationEntry[]>();
  for (const entry of entries) {
    const time = entry.windowStart.getTime();
    const start = hourly ? Math.floor(time / HOUR_MS) * HOUR_MS : time;
    const group = groups.get(start);
    if (group) group.push(entry);
    else groups.set(start, [entry]);
  }
  const side = (group: readonly ReconciliationEntry[], pick: 'provisional' | 'final') => {
    const values = group.map((entry) => entry[pick]).filter((value) => value !== null);
    return values.length > 0 ? measure.combine(values) : null;
  };
  const points = [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, group]) => ({
      start: new Date(start),
      provisional: side(group, 'provisional'),
      final: side(group, 'final'),
      different: group.filter((entry) => entry.cause !== 'exact').length,
    }));
  const y = hourly
    ? `${measure.y}, over the windows starting in each hour`
    : `${measure.y}, per window start`;
  return { y, hourly, points };
}

/**
 * The report of a run's reconciliation: totals and per-cause counts for the day and for each
 * metric (every catalogue metric, also those without windows), a chart series and the largest
 * differences per metric. Differences are per metric, as metrics do not share a unit.
 */
export function buildAuditReport(
  run: RunSummary,
  entries: readonly ReconciliationEntry[],
  options: AuditReportOptions = {},
): AuditReport {
  const definitions = options.definitions ?? METRICS;
  const largestPerMetric = options.largest ?? DEFAULT_LARGEST;
  const wanted = options.metric === undefined ? undefined : [options.metric];
  const selected = wanted
    ? entries.filter((entry) => entry.metric === options.metric)
    : [...entries];
  const names = wanted ?? [
    ...definitions.map((definition) => definition.name),
    ...[...new Set(selected.map((entry) => entry.metric))]
      .filter((name) => !definitions.some((definition) => definition.name === name))
      .sort(),
  ];
  const byMetric = new Map<string, ReconciliationEntry[]>(names.map((name) => [name, []]));
  for (const entry of selected) byMetric.get(entry.metric)?.push(entry);

  const metrics = names.map((name): MetricAudit => {
    const metricEntries = byMetric.get(name) ?? [];
    const definition = definitions.find((candidate) => candidate.name === name);
    const keys = definition?.keys ?? [];
    return {
      metric: name,
      aggregate: definition?.aggregate.fn,
      keys,
      ...totalsOf(metricEntries),
      chart: chartOf(metricEntries, definition, keys),
      largestDifferences: largestDifferences(metricEntries, largestPerMetric),
    };
  });
  return { run, metric: options.metric, ...totalsOf(selected), metrics, largestPerMetric };
}
