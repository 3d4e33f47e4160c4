import type { Expectation } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { expectationSql, landedRowCountSql } from './quality-sql';

const scope = {
  from: new Date('2026-11-23T00:00:00Z'),
  to: new Date('2026-11-24T00:00:00Z'),
  cutoff: new Date('2026-11-24T00:30:00Z'),
};

function placeholders(sql: string): number {
  return (sql.match(/\?/g) ?? []).length;
}

const notNull: Expectation = {
  kind: 'not_null',
  table: 'shop.orders',
  fields: ['id', 'currency'],
  severity: 'ERROR',
};
const references: Expectation = {
  kind: 'references',
  table: 'shop.payments',
  field: 'order_id',
  referencedTable: 'shop.orders',
  referencedField: 'id',
  severity: 'ERROR',
};

describe('expectationSql', () => {
  it("reads the day's rows only: changes committed since the day began, event time in the day", () => {
    const { sql, bindings } = expectationSql(notNull, scope);
    expect(placeholders(sql)).toBe(bindings.length);
    expect(sql).toContain('committed_at >= ?');
    expect(bindings).toContain(scope.from);
    expect(bindings).toContain(scope.from.getTime());
    expect(bindings).toContain(scope.to.getTime());
    expect(bindings).toContain('created_at');
  });

  it('reads a materialised day state when given one', () => {
    const { sql } = expectationSql(notNull, scope, new Map([['shop.orders', 'quality_state_0']]));
    expect(sql).toContain('FROM "quality_state_0"');
    expect(sql).not.toContain('raw.change_events');
    expect(() =>
      expectationSql(notNull, scope, new Map([['shop.orders', 'x; DROP TABLE y']])),
    ).toThrow(/not a relation name/);
  });

  it("looks the day's referenced parents up by key, older ones before the day", () => {
    const { sql, bindings } = expectationSql(references, scope);
    expect(placeholders(sql)).toBe(bindings.length);
    expect(sql).toContain('primary_key = refs.primary_key');
    expect(sql).toContain('committed_at < ?');
    expect(sql).not.toMatch(/NOT EXISTS \(\s*SELECT 1 FROM parents/);
  });

  it('rebuilds the parent state when the referenced field is not its key', () => {
    const { sql, bindings } = expectationSql(
      { ...references, referencedField: 'customer_id' } as Expectation & { kind: 'references' },
      scope,
    );
    expect(placeholders(sql)).toBe(bindings.length);
    expect(sql).not.toContain('refs.primary_key');
  });
});

describe('landedRowCountSql', () => {
  it("counts the day's rows in the current state and reads dead letters safely", () => {
    const { sql, bindings } = landedRowCountSql('shop.orders', scope);
    expect(placeholders(sql)).toBe(bindings.length);
    expect(sql).toContain('ops.try_jsonb(raw)');
    expect(sql).not.toContain('convert_from');
    expect(sql).toContain('unattributed');
    expect(bindings).toContain(scope.from);
    expect(bindings).toContain('%.shop.orders');
  });
});

describe("with a backfill's state snapshot", () => {
  const covering = (table: string) => ({
    table,
    eventTimeField: 'created_at',
    from: '2026-11-01T00:00:00.000Z',
    to: '2026-12-01T00:00:00.000Z',
  });
  const snapshot = {
    snapshotId: 3,
    cutoff: scope.cutoff.toISOString(),
    tables: [covering('shop.orders'), covering('shop.payments')],
  };

  it("reads the day's rows and its parents from the snapshot, not the changes since the day", () => {
    const { sql, bindings } = expectationSql(references, { ...scope, snapshot });
    expect(placeholders(sql)).toBe(bindings.length);
    expect(sql).toContain('final.state_snapshot_rows');
    // Parents not in the snapshot are looked up by key; no scan of every change since the day.
    expect(sql).not.toContain('committed_at >= ?');
    expect(bindings).not.toContain(scope.from);
  });

  it('rebuilds from the changelog when the snapshot was taken at another cutoff', () => {
    const other = { ...snapshot, cutoff: '2026-11-25T00:00:00.000Z' };
    const { sql } = expectationSql(references, { ...scope, snapshot: other });
    expect(sql).not.toContain('final.state_snapshot_rows');
    expect(sql).toContain('committed_at >= ?');
  });

  it('counts the landed rows of the day from the snapshot', () => {
    const { sql, bindings } = landedRowCountSql('shop.orders', { ...scope, snapshot });
    expect(placeholders(sql)).toBe(bindings.length);
    expect(sql).toContain('final.state_snapshot_rows');
    expect(bindings).toContain(3);
  });
});
