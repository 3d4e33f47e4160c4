/** How bad a failed expectation is: ERROR blocks publication, WARN publishes with a flag. */
export const EXPECTATION_SEVERITIES = ['ERROR', 'WARN'] as const;
export type ExpectationSeverity = (typeof EXPECTATION_SEVERITIES)[number];

/** A data-quality expectation the nightly consolidation checks before publishing final values. */
export type Expectation =
  | { kind: 'not_null'; table: string; fields: readonly string[]; severity: ExpectationSeverity }
  | {
      kind: 'range';
      table: string;
      field: string;
      min?: number;
      max?: number;
      severity: ExpectationSeverity;
    }
  | {
      kind: 'references';
      table: string;
      field: string;
      referencedTable: string;
      referencedField: string;
      severity: ExpectationSeverity;
    }
  | {
      /** The changelog's rebuilt state holds the source table's rows, less those dead-lettered. */
      kind: 'row_count_matches_source';
      table: string;
      /** Share of the source's rows that may differ beyond the dead letters (rows in flight). */
      tolerance: number;
      severity: ExpectationSeverity;
    }
  | {
      /** A change of the table landed at most this long before the cutoff. */
      kind: 'freshness';
      table: string;
      maxLagMs: number;
      severity: ExpectationSeverity;
    }
  | {
      /** At most this many provisional-vs-final differences without a known cause. */
      kind: 'reconciliation_drift';
      maxUnexplained: number;
      severity: ExpectationSeverity;
    };

/** A stable name for an expectation, as its results are stored and shown. */
export function expectationName(expectation: Expectation): string {
  switch (expectation.kind) {
    case 'not_null':
      return `not_null:${expectation.table}:${expectation.fields.join(',')}`;
    case 'range':
      return `range:${expectation.table}.${expectation.field}:${expectation.min ?? ''}..${expectation.max ?? ''}`;
    case 'references':
      return `references:${expectation.table}.${expectation.field}->${expectation.referencedTable}.${expectation.referencedField}`;
    case 'row_count_matches_source':
    case 'freshness':
      return `${expectation.kind}:${expectation.table}`;
    case 'reconciliation_drift':
      return expectation.kind;
  }
}

const HOUR = 60 * 60 * 1000;

/** The expectations of the shop's tables, checked by every consolidation. */
export const EXPECTATIONS: readonly Expectation[] = [
  {
    kind: 'not_null',
    table: 'shop.orders',
    fields: ['id', 'customer_id', 'currency', 'created_at'],
    severity: 'ERROR',
  },
  { kind: 'range', table: 'shop.orders', field: 'amount_minor', min: 0, severity: 'ERROR' },
  {
    kind: 'not_null',
    table: 'shop.payments',
    fields: ['id', 'order_id', 'method', 'created_at'],
    severity: 'ERROR',
  },
  { kind: 'range', table: 'shop.payments', field: 'amount_minor', min: 0, severity: 'ERROR' },
  {
    kind: 'references',
    table: 'shop.payments',
    field: 'order_id',
    referencedTable: 'shop.orders',
    referencedField: 'id',
    severity: 'ERROR',
  },
  { kind: 'row_count_matches_source', table: 'shop.orders', tolerance: 0.01, severity: 'ERROR' },
  { kind: 'row_count_matches_source', table: 'shop.payments', tolerance: 0.01, severity: 'ERROR' },
  { kind: 'freshness', table: 'shop.orders', maxLagMs: 6 * HOUR, severity: 'WARN' },
  { kind: 'reconciliation_drift', maxUnexplained: 0, severity: 'WARN' },
];
