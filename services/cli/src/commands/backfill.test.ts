import { describe, expect, it } from 'vitest';
import { parseBackfillArgs } from './backfill';
import { parseConsolidateArgs } from './consolidate';

const METRIC_NAMES = ['orders_per_minute', 'revenue_per_minute'];

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  return 'no problem';
}

describe('parseBackfillArgs', () => {
  it('reads a backfill of every metric with a stable default id', () => {
    expect(
      parseBackfillArgs(
        ['--metric', 'all', '--from', '2026-01-01', '--to', '2026-01-31'],
        METRIC_NAMES,
      ),
    ).toEqual({
      action: 'start',
      metrics: [],
      from: '2026-01-01',
      to: '2026-01-31',
      concurrency: 4,
      reason: undefined,
      id: 'backfill-all-2026-01-01-2026-01-31',
      detach: false,
      json: false,
    });
  });

  it('reads named metrics, concurrency, reason and id', () => {
    const args = parseBackfillArgs(
      [
        '--metric',
        'orders_per_minute,revenue_per_minute',
        '--from',
        '2026-01-01',
        '--to',
        '2026-01-02',
        '--concurrency',
        '8',
        '--reason',
        'fixed currency mapping',
        '--detach',
      ],
      METRIC_NAMES,
    );
    expect(args).toMatchObject({
      metrics: ['orders_per_minute', 'revenue_per_minute'],
      concurrency: 8,
      reason: 'fixed currency mapping',
      id: 'backfill-orders_per_minute+revenue_per_minute-2026-01-01-2026-01-02',
      detach: true,
    });
  });

  it('lists every problem, each naming its option', () => {
    const message = problemOf(() =>
      parseBackfillArgs(['--metric', 'nope', '--from', '2026-02-30'], METRIC_NAMES),
    );
    expect(message).toContain('--metric: unknown metric "nope" (known: orders_per_minute');
    expect(message).toContain('--to: required');
    expect(
      problemOf(() =>
        parseBackfillArgs(['--metric', 'all', '--from', '2026-03-02', '--to', '2026-03-01']),
      ),
    ).toContain('--to: 2026-03-01 is before from 2026-03-02');
    expect(
      problemOf(() =>
        parseBackfillArgs([
          '--metric',
          'all',
          '--from',
          '2026-03-01',
          '--to',
          '2026-03-02',
          '--concurrency',
          'many',
        ]),
      ),
    ).toContain('--concurrency: expected a whole number');
    expect(problemOf(() => parseBackfillArgs(['--metric', 'all', '--frm', 'x']))).toContain(
      "Unknown option '--frm'",
    );
  });

  it('reads the control subcommands with their id', () => {
    expect(parseBackfillArgs(['status', 'b-1', '--json'])).toEqual({
      action: 'status',
      id: 'b-1',
      json: true,
    });
    expect(parseBackfillArgs(['cancel', 'b-1'])).toMatchObject({ action: 'cancel', id: 'b-1' });
    expect(parseBackfillArgs(['list'])).toEqual({ action: 'list', json: false });
    expect(problemOf(() => parseBackfillArgs(['pause']))).toContain(
      'pause: expected one backfill id',
    );
  });
});

describe('parseConsolidateArgs', () => {
  const now = new Date('2026-11-23T07:00:00Z');

  it('reads yesterday, metrics, as-of now and the wait', () => {
    expect(
      parseConsolidateArgs(
        ['--date', 'yesterday', '--metric', 'orders_per_minute', '--as-of', 'now', '--wait', '90s'],
        now,
      ),
    ).toEqual({
      day: '2026-11-22',
      metrics: ['orders_per_minute'],
      asOf: '2026-11-23T07:00:00.000Z',
      waitMs: 90_000,
      json: false,
    });
  });

  it('lists every problem', () => {
    const message = problemOf(() =>
      parseConsolidateArgs(['--date', '2026-13-01', '--metric', 'x', '--as-of', 'later'], now),
    );
    expect(message).toContain('--date: not a day: "2026-13-01"');
    expect(message).toContain('--metric: unknown metric "x"');
    expect(message).toContain('--as-of: not a time: "later"');
    expect(problemOf(() => parseConsolidateArgs([], now))).toContain('--date: required');
  });
});

describe('--pipeline', () => {
  const range = ['--metric', 'all', '--from', '2026-01-01', '--to', '2026-01-02'];

  it('names the stream pipeline a backfill or a consolidation reconciles against', () => {
    expect(parseBackfillArgs([...range, '--pipeline', 'v2'], METRIC_NAMES)).toMatchObject({
      pipeline: 'v2',
    });
    expect(parseBackfillArgs(range, METRIC_NAMES)).not.toHaveProperty('pipeline');
    expect(parseConsolidateArgs(['--date', '2026-01-01', '--pipeline', 'v2'])).toMatchObject({
      pipeline: 'v2',
    });
  });

  it('refuses a name that is not a pipeline', () => {
    const refused =
      '--pipeline: expected a pipeline name of letters, digits, ".", "_" and "-", got "a b"';
    expect(
      problemOf(() => parseBackfillArgs([...range, '--pipeline', 'a b'], METRIC_NAMES)),
    ).toContain(refused);
    expect(
      problemOf(() => parseConsolidateArgs(['--date', '2026-01-01', '--pipeline', 'a b'])),
    ).toContain(refused);
  });
});
