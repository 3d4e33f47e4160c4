import { SHOP_METRICS } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { parseValuesArgs, renderValues, valuesCommand, type MetricValue } from './values';

const now = new Date('2026-12-07T10:00:00Z');
const options = { metrics: SHOP_METRICS, pipeline: 'tidemark', now };
const parse = (argv: string[]) => parseValuesArgs(argv, options);

describe('parseValuesArgs', () => {
  it('reads a metric, a window span, a key, final values and a watch interval', () => {
    expect(parse(['--metric', 'orders_per_minute'])).toMatchObject({
      metric: { name: 'orders_per_minute' },
      since: new Date('2026-12-07T09:00:00Z'),
      final: false,
      pipeline: 'tidemark',
      limit: 50,
      json: false,
    });
    const args = parse([
      '--metric',
      'orders_per_minute',
      '--since',
      '15m',
      '--key',
      'currency=EUR',
    ]);
    expect(args).toMatchObject({
      since: new Date('2026-12-07T09:45:00Z'),
      key: { field: 'currency', value: 'EUR' },
    });
    expect(parse(['--metric', 'orders_per_minute', '--key', 'EUR']).key).toEqual({ value: 'EUR' });
    expect(parse(['--metric', 'orders_per_minute', '--watch']).watchMs).toBe(2_000);
    expect(parse(['--metric', 'orders_per_minute', '--watch', '10s', '--final']).watchMs).toBe(
      10_000,
    );
    expect(parse(['--metric', 'orders_per_minute', '--pipeline', 'v2']).pipeline).toBe('v2');
  });

  it('names every problem at once, with the catalogue', () => {
    expect(() =>
      parse(['--metric', 'orders_per_hour', '--since', 'soon', '--limit', '0', '--watch=often']),
    ).toThrow(
      [
        '--metric: no metric "orders_per_hour" in the catalogue; expected one of orders_per_minute, revenue_per_minute, payment_failure_rate, customer_sessions',
        '--since: expected a duration such as 15m or 1h, or a time, got "soon"',
        '--limit: expected a whole number from 1 to 10000, got 0',
        '--watch: expected an interval such as 2s or 1m, got often',
      ].join('\n'),
    );
    expect(() => parse(['--metric', 'orders_per_minute', '--key', 'method=card'])).toThrow(
      '--key: orders_per_minute is keyed by currency, not method',
    );
    expect(() => parse([])).toThrow(/--metric: required, one of orders_per_minute/);
  });
});

const VALUE: MetricValue = {
  windowStart: new Date('2026-12-07T09:58:00Z'),
  windowEnd: new Date('2026-12-07T09:59:00Z'),
  key: { currency: 'EUR' },
  value: 12,
  revision: 3,
  pending: true,
  status: 'open',
  at: new Date('2026-12-07T09:59:01Z'),
};

describe('renderValues', () => {
  it('shows each window, key and value with its revision and state', () => {
    expect(renderValues(parse(['--metric', 'orders_per_minute']), [VALUE])).toBe(
      [
        'orders_per_minute: provisional (pipeline tidemark) values of windows ending after 2026-12-07 09:00:00 UTC',
        '',
        'window (UTC)                    currency  value  revision  window state         emitted',
        '------------------------------  --------  -----  --------  -------------------  -------------------',
        '2026-12-07 09:58:00 - 09:59:00  EUR          12         3  open, newer pending  2026-12-07 09:59:01',
      ].join('\n'),
    );
  });

  it('says why there is nothing to show', () => {
    expect(renderValues(parse(['--metric', 'orders_per_minute']), [])).toMatch(
      /none emitted yet: is `tidemark stream` running as pipeline tidemark\?$/,
    );
    expect(renderValues(parse(['--metric', 'orders_per_minute', '--final']), [])).toMatch(
      /no day of these windows is consolidated yet/,
    );
  });
});

describe('valuesCommand --watch', () => {
  it('prints the values again every interval until interrupted, the span measured again', async () => {
    const printed: string[] = [];
    const stop = new AbortController();
    let reads = 0;
    const spans: Date[] = [];
    let clock = now.getTime();
    const warehouse = Object.assign(() => {
      throw new Error('not used');
    }) as never;
    const code = await valuesCommand(['--metric', 'orders_per_minute', '--watch', '1s'], {
      warehouse,
      metrics: SHOP_METRICS,
      pipeline: 'tidemark',
      print: (line) => printed.push(line),
      signal: stop.signal,
      now: () => new Date((clock += 60_000)),
      read: async (_warehouse, args) => {
        spans.push(args.since);
        reads += 1;
        if (reads === 2) stop.abort();
        return [VALUE];
      },
    });
    expect(code).toBe(0);
    expect(reads).toBe(2);
    // --since 1h (the default), measured from each refresh: a minute apart.
    expect(spans[1]!.getTime() - spans[0]!.getTime()).toBe(60_000);
    expect(printed.filter((text) => text.startsWith('orders_per_minute:'))).toHaveLength(2);
  });
});
