import { TidemarkError } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { parseAuditArgs } from './audit';

function rejection(argv: string[]): TidemarkError {
  try {
    parseAuditArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('BAD_INPUT');
    return error as TidemarkError;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseAuditArgs', () => {
  it('shows a day as a table by default', () => {
    expect(parseAuditArgs(['--date', '2026-11-22'])).toEqual({
      day: { kind: 'day', day: '2026-11-22' },
      format: 'table',
    });
  });

  it('reads every option', () => {
    expect(
      parseAuditArgs([
        '--date',
        'latest',
        '--metric',
        'revenue_per_minute',
        '--format',
        'html',
        '--out',
        'report.html',
      ]),
    ).toEqual({
      day: { kind: 'latest' },
      metric: 'revenue_per_minute',
      format: 'html',
      out: 'report.html',
    });
  });

  it('requires --date', () => {
    expect(rejection([]).message).toBe(
      '--date: required, the day to audit as yyyy-mm-dd (UTC) or latest',
    );
  });

  it('names a bad date, an unknown metric and a bad format together', () => {
    const error = rejection(['--date', '2026-02-30', '--metric', 'orders', '--format', 'pdf']);
    expect(error.message).toContain(
      '--date: expected a day as yyyy-mm-dd, e.g. 2026-11-22, or latest, got "2026-02-30"',
    );
    expect(error.message).toContain(
      '--metric: unknown metric "orders", expected one of orders_per_minute, revenue_per_minute, payment_failure_rate, customer_sessions',
    );
    expect(error.message).toContain('--format: expected one of table, json, html, got "pdf"');
    expect(error.context.problems).toHaveLength(3);
  });

  it('rejects unknown options and positionals with the usage', () => {
    expect(rejection(['--date', 'latest', '--json']).message).toContain('usage: tidemark audit');
    expect(rejection(['2026-11-22']).message).toContain('usage: tidemark audit');
    expect(rejection(['--date', 'latest', '--out', ' ']).message).toContain('--out');
  });
});

describe('parseAuditArgs --pipeline', () => {
  it('keeps the runs of one stream pipeline, and refuses a name that is not one', () => {
    expect(parseAuditArgs(['--date', '2026-11-22', '--pipeline', 'v2'])).toMatchObject({
      pipeline: 'v2',
    });
    expect(() => parseAuditArgs(['--date', '2026-11-22', '--pipeline', 'a b'])).toThrow(
      /--pipeline: expected a pipeline name/,
    );
  });
});
