import { describe, expect, it } from 'vitest';
import { contractVersions } from '../events/registry';
import { METRICS, SHOP_METRICS } from './catalog';
import type { MetricDefinitionInput } from './definition';
import { MetricDefinitionError, validateMetricDefinition } from './validate';

const contractFor = (table: string, version: number) =>
  contractVersions(table).find((contract) => contract.version === version);

const REVENUE: MetricDefinitionInput = {
  name: 'revenue',
  description: 'revenue',
  owner: 'finance',
  source: { table: 'shop.orders', contractVersion: 2 },
  eventTimeField: 'created_at',
  keys: ['currency'],
  aggregate: { fn: 'sum', of: { field: 'amount_minor' } },
  filter: [{ field: 'status', op: 'eq', value: 'paid' }],
  window: { kind: 'tumbling', sizeMs: 60_000 },
  outOfOrdernessMs: 5_000,
  allowedLatenessMs: 60_000,
  emit: { kind: 'on_update' },
};

function problemsOf(input: MetricDefinitionInput): string[] {
  try {
    validateMetricDefinition(input, contractFor);
  } catch (error) {
    if (error instanceof MetricDefinitionError)
      return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('metric definitions', () => {
  it("ships the shop's four metrics, one per window kind at least, in the catalogue", () => {
    expect(SHOP_METRICS.map((metric) => [metric.name, metric.window.kind])).toEqual([
      ['orders_per_minute', 'tumbling'],
      ['revenue_per_minute', 'tumbling'],
      ['payment_failure_rate', 'hopping'],
      ['customer_sessions', 'session'],
    ]);
    expect(METRICS).toEqual(expect.arrayContaining([...SHOP_METRICS]));
    const names = METRICS.map((metric) => metric.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('accepts a well-formed definition and defaults the filter', () => {
    expect(problemsOf(REVENUE)).toEqual([]);
    const { filter: _filter, ...withoutFilter } = REVENUE;
    expect(validateMetricDefinition(withoutFilter, contractFor).filter).toEqual([]);
  });

  it('names fields the source contract does not have', () => {
    expect(problemsOf({ ...REVENUE, keys: ['currency', 'region'] })).toEqual([
      'keys.1: shop.orders v2 has no field "region"',
    ]);
  });

  it('refuses a sum over a text field', () => {
    expect(problemsOf({ ...REVENUE, aggregate: { fn: 'sum', of: { field: 'currency' } } })).toEqual(
      ['aggregate.of.field: sum needs a numeric field; "currency" is text'],
    );
  });

  it('refuses a filter value of the wrong type', () => {
    expect(
      problemsOf({ ...REVENUE, filter: [{ field: 'amount_minor', op: 'gt', value: 'ten' }] }),
    ).toEqual(['filter.0.value: "ten" cannot be compared with "amount_minor" (numeric)']);
  });

  it('refuses an inconsistent hopping window', () => {
    expect(
      problemsOf({ ...REVENUE, window: { kind: 'hopping', sizeMs: 60_000, slideMs: 45_000 } }),
    ).toEqual(['window.slideMs: the window size must be a multiple of the slide']);
  });

  it('reports shape errors with their paths, all at once', () => {
    const problems = problemsOf({
      ...REVENUE,
      name: 'Revenue!',
      aggregate: { fn: 'median' } as never,
      outOfOrdernessMs: -1,
    });
    expect(problems.map((problem) => problem.split(':')[0])).toEqual([
      'name',
      'aggregate.fn',
      'outOfOrdernessMs',
    ]);
  });

  it('refuses an unknown contract version and a foreign event-time field', () => {
    expect(
      problemsOf({ ...REVENUE, source: { table: 'shop.orders', contractVersion: 9 } }),
    ).toEqual(['source: no contract shop.orders v9']);
    expect(problemsOf({ ...REVENUE, eventTimeField: 'updated_at' })).toEqual([
      'eventTimeField: must be the contract\'s event-time field "created_at"',
    ]);
  });

  it('refuses count_distinct over an indicator', () => {
    expect(
      problemsOf({
        ...REVENUE,
        aggregate: {
          fn: 'count_distinct',
          of: { indicator: { field: 'status', op: 'eq', value: 'paid' } },
        },
      }),
    ).toEqual(['aggregate.of: count_distinct counts a field, not an indicator']);
  });

  it('refuses min and max over a text field', () => {
    expect(
      problemsOf({ ...REVENUE, aggregate: { fn: 'max', of: { field: 'customer_id' } } }),
    ).toEqual(['aggregate.of.field: max needs a numeric field; "customer_id" is text']);
  });
});
