import type { LoadReport } from '@tidemark/loadgen';
import { TidemarkError } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { loadCommand, parseLoadArgs, renderLoadReport } from './load';

function rejection(argv: string[]): TidemarkError {
  try {
    parseLoadArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('BAD_INPUT');
    return error as TidemarkError;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseLoadArgs', () => {
  it('reads every option', () => {
    expect(
      parseLoadArgs([
        '--rate',
        '5000',
        '--duration',
        '60s',
        '--operations',
        '100000',
        '--late',
        '0.05',
        '--late-by',
        '15m',
        '--out-of-order',
        '0.2',
        '--out-of-order-max',
        '2500ms',
        '--updates',
        '0.1',
        '--deletes',
        '0.02',
        '--duplicates',
        '0.01',
        '--pk-changes',
        '0.005',
        '--payments',
        '0.3',
        '--poison',
        '0.001',
        '--seed',
        '42',
        '--currencies',
        'EUR, USD',
        '--customers',
        '500',
        '--customer-prefix',
        'bench',
        '--connections',
        '6',
      ]),
    ).toEqual({
      ratePerSec: 5000,
      durationMs: 60_000,
      operations: 100_000,
      late: 0.05,
      lateByMs: 900_000,
      outOfOrder: 0.2,
      outOfOrderMaxMs: 2500,
      updates: 0.1,
      deletes: 0.02,
      duplicates: 0.01,
      pkChanges: 0.005,
      payments: 0.3,
      poison: 0.001,
      seed: 42,
      currencies: ['EUR', 'USD'],
      customers: 500,
      customerPrefix: 'bench',
      connections: 6,
      recordIds: false,
    });
  });

  it('leaves what is not given to the defaults', () => {
    expect(parseLoadArgs(['--rate', '100'])).toEqual({ ratePerSec: 100, recordIds: false });
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['15m', 900_000],
    ['1h', 3_600_000],
  ])('reads the duration %s as %i ms', (text, ms) => {
    expect(parseLoadArgs(['--rate', '1', '--duration', text]).durationMs).toBe(ms);
  });

  it.each([
    [['--duration', '60s'], '--rate: required, the operations per second to write'],
    [['--rate', '0'], '--rate: expected operations per second greater than 0, got 0'],
    [['--rate=-5'], '--rate: expected operations per second greater than 0, got -5'],
    [['--rate', 'fast'], '--rate: expected a number, got "fast"'],
    [
      ['--rate', '10', '--duration', '60'],
      '--duration: expected a duration such as 500ms, 30s, 15m or 1h, got "60"',
    ],
    [
      ['--rate', '10', '--late-by', '5 minutes'],
      '--late-by: expected a duration such as 500ms, 30s, 15m or 1h, got "5 minutes"',
    ],
    [['--rate', '10', '--duration', '0s'], '--duration: expected a duration greater than 0, got 0'],
    [['--rate', '10', '--late', '1.5'], '--late: expected a share between 0 and 1, got 1.5'],
    [['--rate', '10', '--poison=-0.1'], '--poison: expected a share between 0 and 1, got -0.1'],
    [
      ['--rate', '10', '--updates', '0.5', '--payments', '0.6'],
      '--updates + --deletes + --duplicates + --pk-changes + --payments + --poison = 1.135: the shares of operations must add up to at most 1 (the rest are new orders)',
    ],
    [
      ['--rate', '10', '--late', '0.5', '--out-of-order', '0.6'],
      '--late + --out-of-order = 1.1: a row is either late or out of order',
    ],
    [['--rate', '10', '--operations', '2.5'], '--operations: expected a whole number, got "2.5"'],
    [['--rate', '10', '--seed', 'abc'], '--seed: expected a number, got "abc"'],
    [
      ['--rate', '10', '--customers', '0'],
      '--customers: expected a whole number greater than 0, got 0',
    ],
    [
      ['--rate', '10', '--currencies', 'EUR,euro'],
      '--currencies: expected codes of three capital letters such as EUR, got "euro"',
    ],
    [['--rate', '10', '--currencies', ','], '--currencies: expected at least one currency code'],
    [
      ['--rate', '10', '--connections', '0'],
      '--connections: expected a whole number greater than 0',
    ],
  ])('rejects %j: %s', (argv, message) => {
    expect(rejection(argv).message).toContain(message);
  });

  it('lists every problem at once', () => {
    const { message } = rejection(['--rate', '0', '--late', '2', '--currencies', 'eu']);
    expect(message).toContain('--rate: expected operations per second greater than 0');
    expect(message).toContain('--late: expected a share between 0 and 1, got 2');
    expect(message).toContain('--currencies: expected codes of three capital letters');
  });

  it('rejects unknown options and stray arguments, with the usage', () => {
    expect(rejection(['--rate', '10', '--speed', '3']).message).toMatch(
      /^Unknown option '--speed'[\s\S]*usage: tidemark load --rate/,
    );
    expect(rejection(['--rate', '10', 'now']).message).toMatch(/^Unexpected argument 'now'/);
    expect(rejection(['--rate']).message).toMatch(/^Option '--rate <value>' argument missing/);
    expect(rejection(['--rate', '-5']).message).toMatch(
      /^Option '--rate' argument is ambiguous[\s\S]*use '--rate=-XYZ'/,
    );
  });
});

describe('loadCommand', () => {
  it('refuses bad arguments before touching the database', async () => {
    const lines: string[] = [];
    const source = new Proxy(
      {},
      {
        get() {
          throw new Error('the database was used');
        },
      },
    ) as Parameters<typeof loadCommand>[1]['source'];
    await expect(
      loadCommand(['--rate', '0'], { source, print: (line) => lines.push(line) }),
    ).rejects.toThrow(/--rate: expected operations per second greater than 0/);
    expect(lines).toEqual([]);
  });
});

describe('renderLoadReport', () => {
  it('summarises operations per kind, poison and late rows, and the achieved rate', () => {
    const report: LoadReport = {
      seed: 42,
      targetRatePerSec: 5000,
      achievedRatePerSec: 4990,
      startedAt: new Date('2026-11-22T10:00:00.000Z'),
      endedAt: new Date('2026-11-22T10:00:10.020Z'),
      stoppedBy: 'duration',
      operations: 49_900,
      byKind: {
        insert_order: 28_000,
        insert_payment: 15_000,
        update_order: 5000,
        duplicate_update: 500,
        delete_order: 1000,
        change_order_id: 1400,
      },
      changes: 51_000,
      poison: 50,
      late: 2000,
      outOfOrder: 8000,
      ids: {
        insert_order: [],
        insert_payment: [],
        update_order: [],
        duplicate_update: [],
        delete_order: [],
        change_order_id: [],
        poison: [],
        late: [],
        idChanges: [],
      },
    };
    expect(renderLoadReport(report)).toBe(
      [
        'operation         count  share',
        '----------------  -----  ------',
        'insert_order      28000   56.1%',
        'insert_payment    15000   30.1%',
        'update_order       5000   10.0%',
        'duplicate_update    500    1.0%',
        'delete_order       1000    2.0%',
        'change_order_id    1400    2.8%',
        'total             49900  100.0%',
        '',
        'rows changed 51000; poison rows 50, late rows 2000, out-of-order rows 8000',
        'achieved 4990/s of 5000/s over 10.0 s (stopped by duration, seed 42)',
      ].join('\n'),
    );
  });
});
