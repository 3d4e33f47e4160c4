import type { Condition, Measure, MetricDefinition, Row } from '@tidemark/contracts';
import type { MeasureValue } from './accumulator';
import type { Bind } from './sql-bind';

/** What one row image adds to a metric: its group, event time and measured value. */
export interface Contribution {
  /** The grouping key's values, JSON-encoded: the identity of the group. */
  groupKey: string;
  keyValues: unknown[];
  eventTimeMs: number;
  measure: MeasureValue;
}

/**
 * The contribution of a row image to a metric, or null when the metric's filter excludes it.
 * Conditions follow SQL's three-valued logic (a comparison with NULL is not true), so the stream
 * selects exactly the rows the batch's SQL selects.
 */
export function contributionOf(metric: MetricDefinition, row: Row): Contribution | null {
  if (!metric.filter.every((condition) => holds(condition, row))) return null;
  const eventTimeMs = eventTimeOf(row[metric.eventTimeField]);
  if (eventTimeMs === undefined) return null;
  const keyValues = metric.keys.map((key) => row[key] ?? null);
  return {
    groupKey: JSON.stringify(keyValues),
    keyValues,
    eventTimeMs,
    measure: measureOf(metric, row),
  };
}

/** Epoch milliseconds of an event-time value (an ISO timestamp or epoch milliseconds). */
export function eventTimeOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function measureOf(metric: MetricDefinition, row: Row): MeasureValue {
  const { aggregate } = metric;
  if (aggregate.fn === 'count') return null;
  return measured(aggregate.of, row, aggregate.fn === 'sum' || aggregate.fn === 'avg');
}

function measured(measure: Measure, row: Row, numeric: boolean): MeasureValue {
  if ('indicator' in measure) return holds(measure.indicator, row) ? 1 : 0;
  const value = row[measure.field];
  if (value === null || value === undefined) return null;
  if (numeric || typeof value === 'number') return Number(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Whether a filter condition holds for a row. */
export function holds(condition: Condition, row: Row): boolean {
  const value = row[condition.field] ?? null;
  switch (condition.op) {
    case 'is_null':
      return value === null;
    case 'is_not_null':
      return value !== null;
    case 'in':
      return value !== null && condition.value.some((candidate) => equals(value, candidate));
    case 'not_in':
      return value !== null && !condition.value.some((candidate) => equals(value, candidate));
    case 'eq':
      return value !== null && equals(value, condition.value);
    case 'neq':
      return value !== null && !equals(value, condition.value);
    default: {
      if (value === null) return false;
      const order = compare(value, condition.value);
      if (order === undefined) return false;
      if (condition.op === 'gt') return order > 0;
      if (condition.op === 'gte') return order >= 0;
      if (condition.op === 'lt') return order < 0;
      return order <= 0;
    }
  }
}

type Scalar = string | number | boolean;

function equals(value: unknown, expected: Scalar): boolean {
  // Decimals arrive as strings ("12.5000"): compare them with numbers numerically.
  if (typeof expected === 'number') return Number(value) === expected;
  return value === expected;
}

function compare(value: unknown, expected: Scalar): number | undefined {
  if (typeof expected === 'number') {
    const number = Number(value);
    return Number.isNaN(number) ? undefined : number - expected;
  }
  if (typeof expected === 'string' && typeof value === 'string') {
    return value < expected ? -1 : value > expected ? 1 : 0;
  }
  return undefined;
}

// SQL twins: the same filter and measure over a row image column `row` (jsonb), for the batch
// layer's final values (workflows/src/consolidation/final-metric-sql.ts). The parity test runs
// both on random changelogs and definitions.

const COMPARISON = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * `holds` in SQL: comparisons with NULL are not true (three-valued logic), exactly as `holds`
 * treats a missing value; numbers compare numerically, decimals included.
 */
export function conditionSql(condition: Condition, bind: Bind): string {
  const field = bind(condition.field);
  if (!('value' in condition)) {
    return `(row ->> ${field}) ${condition.op === 'is_null' ? 'IS NULL' : 'IS NOT NULL'}`;
  }
  const values = Array.isArray(condition.value) ? condition.value : [condition.value];
  const cast =
    typeof values[0] === 'number' ? '::numeric' : typeof values[0] === 'boolean' ? '::boolean' : '';
  const column = `(row ->> ${field})${cast}`;
  if (condition.op === 'in' || condition.op === 'not_in') {
    const list = values.map((value: string | number | boolean) => bind(value)).join(', ');
    return `${column} ${condition.op === 'in' ? 'IN' : 'NOT IN'} (${list})`;
  }
  return `${column} ${COMPARISON[condition.op]} ${bind(values[0] as string | number | boolean)}`;
}

/** `measureOf` in SQL: what a row contributes to the aggregate (`NULL` for a count). */
export function measureSql(metric: MetricDefinition, bind: Bind): string {
  const { aggregate } = metric;
  if (aggregate.fn === 'count') return 'NULL::numeric';
  if ('indicator' in aggregate.of) {
    return `(CASE WHEN ${conditionSql(aggregate.of.indicator, bind)} THEN 1 ELSE 0 END)`;
  }
  const text = `(row ->> ${bind(aggregate.of.field)})`;
  return aggregate.fn === 'count_distinct' ? text : `${text}::numeric`;
}
