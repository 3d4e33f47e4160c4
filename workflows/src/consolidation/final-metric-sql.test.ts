import { customerSessions, paymentFailureRate, revenuePerMinute } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import {
  conditionSql,
  eventRangeStateSql,
  finalMetricSql,
  tableStateSql,
} from './final-metric-sql';

const range = {
  start: new Date('2026-11-23T00:00:00Z'),
  end: new Date('2026-11-24T00:00:00Z'),
  cutoff: new Date('2026-11-24T02:00:00Z'),
};

function placeholders(sql: string): number {
  return (sql.match(/\?/g) ?? []).length;
}

describe('finalMetricSql', () => {
  it('has one binding per placeholder, in text order, and no value in the SQL text', () => {
    for (const metric of [revenuePerMinute, paymentFailureRate, customerSessions]) {
      const { sql, bindings } = finalMetricSql(metric, range);
      expect(placeholders(sql), metric.name).toBe(bindings.length);
      expect(sql).not.toContain(metric.eventTimeField);
      expect(sql).not.toContain('cancelled');
      expect(bindings[0]).toBe(metric.source.table);
      expect(bindings).toContainEqual(range.cutoff);
    }
  });

  it('reads the hopping window size and slide from the definition', () => {
    const { bindings } = finalMetricSql(paymentFailureRate, range);
    expect(bindings).toContain(60_000);
    expect(bindings).toContain(4 * 60_000);
    expect(bindings).toContain(5 * 60_000);
  });

  it('keeps a session lookback around the range', () => {
    const { bindings } = finalMetricSql(customerSessions, range);
    expect(bindings).toContainEqual(new Date('2026-11-22T00:00:00Z'));
    expect(bindings).toContain(Date.parse('2026-11-22T00:00:00Z'));
    expect(bindings).toContain(Date.parse('2026-11-25T00:00:00Z'));
  });

  it('reads a materialised state instead of rebuilding it', () => {
    const { sql, bindings } = finalMetricSql(revenuePerMinute, range, {
      relation: 'consolidation_state_0',
    });
    expect(sql).toContain('FROM "consolidation_state_0"');
    expect(sql).not.toContain('raw.change_events');
    expect(placeholders(sql)).toBe(bindings.length);
    expect(bindings).not.toContain(revenuePerMinute.source.table);
    expect(() =>
      finalMetricSql(revenuePerMinute, range, { relation: 'state; DROP TABLE x' }),
    ).toThrow(/not a relation name/);
  });

  it('computes a tumbling window without a series per event', () => {
    expect(finalMetricSql(revenuePerMinute, range).sql).not.toContain('generate_series');
    expect(finalMetricSql(paymentFailureRate, range).sql).toContain('generate_series');
  });
});

describe('eventRangeStateSql', () => {
  it('reads only the changes committed since the start of the event range', () => {
    const from = new Date('2026-11-22T00:00:00Z');
    const to = new Date('2026-11-25T00:00:00Z');
    const { sql, bindings } = eventRangeStateSql(
      'shop.orders',
      'created_at',
      from,
      to,
      range.cutoff,
    );
    expect(sql).toContain('committed_at >= ?');
    expect(sql).not.toContain('created_at');
    expect(placeholders(sql)).toBe(bindings.length);
    expect(bindings).toEqual([
      'shop.orders',
      from,
      range.cutoff,
      'shop.orders',
      range.cutoff,
      'created_at',
      from.getTime(),
      to.getTime(),
    ]);
  });
});

describe('conditionSql', () => {
  const bound: unknown[] = [];
  const bind = (value: string | number | boolean | Date) => {
    bound.push(value);
    return '?';
  };

  it('casts numbers and keeps NULL comparisons false', () => {
    expect(conditionSql({ field: 'fee', op: 'gt', value: 1.5 }, bind)).toBe(
      '(row ->> ?)::numeric > ?',
    );
    expect(conditionSql({ field: 'status', op: 'not_in', value: ['a', 'b'] }, bind)).toBe(
      '(row ->> ?) NOT IN (?, ?)',
    );
    expect(conditionSql({ field: 'settled_on', op: 'is_null' }, bind)).toBe('(row ->> ?) IS NULL');
    expect(bound).toEqual(['fee', 1.5, 'status', 'a', 'b', 'settled_on']);
  });
});

describe('tableStateSql', () => {
  it('reads the latest version per key up to the cutoff', () => {
    const { sql, bindings } = tableStateSql('shop.orders', range.cutoff);
    expect(sql).toContain('DISTINCT ON (jsonb_hash(primary_key), primary_key)');
    expect(sql).not.toContain('committed_at >=');
    expect(bindings).toEqual(['shop.orders', range.cutoff, 'shop.orders', range.cutoff]);
  });
});
