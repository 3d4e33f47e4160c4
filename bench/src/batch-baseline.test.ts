import {
  METRICS,
  ordersPerMinute,
  paymentFailureRate,
  type MetricDefinition,
} from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { baselineColumns, baselineMetricSql, changelogMetricSql } from './batch-baseline';

const DAY = new Date('2026-11-22T00:00:00Z');
const CUTOFF = new Date('2026-11-23T00:30:00Z');

describe('the batch baseline', () => {
  it('covers every catalogue metric, reading only the fields the definitions use', () => {
    expect(Object.keys(baselineMetricSql(DAY)).sort()).toEqual(
      METRICS.map((metric) => metric.name).sort(),
    );
    expect(Object.fromEntries(baselineColumns(METRICS).get('shop.payments') ?? [])).toEqual({
      created_at: 'timestamptz',
      method: 'text',
      status: 'text',
    });
  });

  it("takes its filter, keys, aggregate and window from the metric's definition", () => {
    const { sql, bindings } = baselineMetricSql(DAY)['orders_per_minute']!;
    expect(sql).toMatch(/"status" <> \?/);
    expect(sql).toContain("date_bin(interval '60000 milliseconds'");
    expect(sql).toContain('jsonb_build_array("currency")');
    expect(bindings).toContain('cancelled');

    // A definition changed in the catalogue changes the yardstick with it.
    const changed: MetricDefinition = {
      ...ordersPerMinute,
      keys: ['currency', 'status'],
      filter: [{ field: 'amount_minor', op: 'gte', value: 500 }],
      window: { kind: 'hopping', sizeMs: 300_000, slideMs: 60_000 },
    };
    const rewritten = baselineMetricSql(DAY, [changed])['orders_per_minute']!;
    expect(rewritten.sql).toMatch(/"amount_minor" >= \?/);
    expect(rewritten.sql).toContain('jsonb_build_array("currency", "status")');
    expect(rewritten.sql).toContain("interval '300000 milliseconds'");
    expect(rewritten.bindings).toContain(500);
    expect(Object.fromEntries(baselineColumns([changed]).get('shop.orders') ?? [])).toMatchObject({
      amount_minor: 'numeric',
    });
  });

  it('places every binding where its placeholder is, over the changes as over the state', () => {
    for (const queries of [baselineMetricSql(DAY), changelogMetricSql(DAY, CUTOFF)]) {
      for (const { sql, bindings } of Object.values(queries)) {
        expect(sql.match(/\?/g)?.length).toBe(bindings.length);
      }
    }
    // The indicator's binding (in SELECT) comes before the changes' table (in FROM).
    const { bindings } = changelogMetricSql(DAY, CUTOFF)[paymentFailureRate.name]!;
    expect(bindings.slice(0, 2)).toEqual(['failed', 'shop.payments']);
  });
});
