import { EXPECTATIONS, METRICS, SHOP_METRICS } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { backfillTableRanges } from '../activities/state-snapshot';
import {
  mergeTableRanges,
  snapshotCovers,
  snapshotFillSql,
  snapshotRelation,
  tableRangeStateSql,
  type StateSnapshot,
} from './state-snapshot';

const snapshot: StateSnapshot = {
  snapshotId: 7,
  cutoff: '2026-11-23T09:00:00.000Z',
  tables: [
    {
      table: 'shop.orders',
      eventTimeField: 'created_at',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-02-01T00:00:00.000Z',
    },
  ],
};
const day = {
  table: 'shop.orders',
  eventTimeField: 'created_at',
  from: new Date('2026-01-10T00:00:00Z'),
  to: new Date('2026-01-11T00:00:00Z'),
  cutoff: new Date('2026-11-23T09:00:00Z'),
};

describe('backfillTableRanges', () => {
  it("covers every day's metrics and gate over the whole span, once per table", () => {
    // The shop's catalogue: a team's own tables and metrics do not change what this expects.
    const shopTables = new Set(SHOP_METRICS.map((metric) => metric.source.table));
    const tables = backfillTableRanges(
      { from: '2026-01-01', to: '2026-01-31', metrics: [] },
      SHOP_METRICS,
      EXPECTATIONS.filter(
        (expectation) => !('table' in expectation) || shopTables.has(expectation.table),
      ),
    );
    expect(tables).toEqual([
      {
        table: 'shop.orders',
        eventTimeField: 'created_at',
        // The sessions' day of context either side of the span.
        from: '2025-12-31T00:00:00.000Z',
        to: '2026-02-02T00:00:00.000Z',
      },
      {
        table: 'shop.payments',
        eventTimeField: 'created_at',
        // The hopping window's five minutes back.
        from: '2025-12-31T23:55:00.000Z',
        to: '2026-02-01T00:00:00.000Z',
      },
    ]);
  });

  it('reads every table of the whole catalogue and its gate once', () => {
    const tables = backfillTableRanges(
      { from: '2026-01-01', to: '2026-01-31', metrics: [] },
      METRICS,
      EXPECTATIONS,
    ).map((part) => part.table);
    expect(new Set(tables).size).toBe(tables.length);
    for (const metric of METRICS) expect(tables).toContain(metric.source.table);
    for (const expectation of EXPECTATIONS) {
      if ('table' in expectation) expect(tables).toContain(expectation.table);
    }
  });

  it('reads the tables of the chosen metrics and of the gate only', () => {
    const tables = backfillTableRanges(
      { from: '2026-01-01', to: '2026-01-01', metrics: ['payment_failure_rate'] },
      METRICS,
      [],
    );
    expect(tables.map((part) => part.table)).toEqual(['shop.payments']);
  });
});

describe('mergeTableRanges', () => {
  it('refuses one table read with two event-time fields', () => {
    const range = { from: new Date(0), to: new Date(1) };
    expect(() =>
      mergeTableRanges([
        { table: 'shop.orders', eventTimeField: 'created_at', ...range },
        { table: 'shop.orders', eventTimeField: 'updated_at', ...range },
      ]),
    ).toThrow(/shop.orders is read with two event-time fields: created_at, updated_at/);
  });
});

describe('snapshotCovers', () => {
  it('holds for a range inside the snapshot, read as of its cutoff', () => {
    expect(snapshotCovers(snapshot, day)).toBe(true);
  });

  it('does not for another cutoff, table, event-time field or a range past its edges', () => {
    expect(snapshotCovers(snapshot, { ...day, cutoff: new Date('2026-11-23T09:00:01Z') })).toBe(
      false,
    );
    expect(snapshotCovers(snapshot, { ...day, table: 'shop.payments' })).toBe(false);
    expect(snapshotCovers(snapshot, { ...day, eventTimeField: 'updated_at' })).toBe(false);
    expect(snapshotCovers(snapshot, { ...day, to: new Date('2026-02-01T00:00:01Z') })).toBe(false);
    expect(snapshotCovers(snapshot, { ...day, from: new Date('2025-12-31T23:59:59Z') })).toBe(
      false,
    );
    expect(snapshotCovers(undefined, day)).toBe(false);
  });
});

describe('tableRangeStateSql', () => {
  it('slices the snapshot by event time when it covers the range', () => {
    const { sql, bindings } = tableRangeStateSql(day, snapshot);
    expect(sql).toContain('FROM final.state_snapshot_rows');
    expect(sql).not.toContain('raw.change_events');
    expect(bindings).toEqual([7, 'shop.orders', day.from.getTime(), day.to.getTime()]);
  });

  it('rebuilds from the changelog otherwise', () => {
    const { sql } = tableRangeStateSql({ ...day, table: 'shop.payments' }, snapshot);
    expect(sql).toContain('raw.change_events');
    expect(sql).not.toContain('state_snapshot_rows');
  });
});

describe('snapshotFillSql', () => {
  it("fills the snapshot's own partition with the rows' keys", () => {
    const { sql, bindings } = snapshotFillSql(7, snapshot.tables[0]!, day.cutoff);
    expect(sql).toMatch(/^INSERT INTO final\.state_snapshot_7 /);
    expect(sql).toContain('primary_key');
    expect(bindings.slice(0, 2)).toEqual([7, 'shop.orders']);
  });

  it('names partitions from positive integer ids only', () => {
    expect(snapshotRelation(12)).toBe('final.state_snapshot_12');
    expect(() => snapshotRelation(0)).toThrow(/not a snapshot id/);
    expect(() => snapshotRelation(1.5)).toThrow(/not a snapshot id/);
  });
});
