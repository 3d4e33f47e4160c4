import { TidemarkError } from '@tidemark/runtime';
import type { RecordedGap } from '@tidemark/stream';
import { describe, expect, it } from 'vitest';
import { parseStreamArgs, renderGaps } from './stream-admin';

function rejection(argv: string[]): string {
  try {
    parseStreamArgs(argv, 'tidemark-stream');
  } catch (error) {
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('BAD_INPUT');
    return (error as TidemarkError).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseStreamArgs', () => {
  it("lists every pipeline's gaps by default, and one pipeline's on request", () => {
    expect(parseStreamArgs(['gaps'], 'tidemark-stream')).toEqual({
      action: 'gaps',
      limit: 100,
      json: false,
    });
    expect(parseStreamArgs(['gaps', '--pipeline', 'p-1', '--limit', '5', '--json'], 'x')).toEqual({
      action: 'gaps',
      pipeline: 'p-1',
      limit: 5,
      json: true,
    });
  });

  it('resets the configured pipeline unless told another, and only with --yes', () => {
    expect(parseStreamArgs(['reset'], 'tidemark-stream')).toEqual({
      action: 'reset',
      pipeline: 'tidemark-stream',
      yes: false,
    });
    expect(parseStreamArgs(['reset', '--pipeline', 'other', '--yes'], 'x')).toEqual({
      action: 'reset',
      pipeline: 'other',
      yes: true,
    });
  });

  it('names what is wrong', () => {
    expect(rejection(['gapz'])).toContain('unknown subcommand "gapz", expected "gaps" or "reset"');
    expect(rejection(['gaps', '--limit', '0'])).toContain(
      '--limit: expected a whole number from 1 to 10000, got "0"',
    );
    expect(rejection(['reset', '--pipeline', 'a b'])).toContain(
      '--pipeline: expected a pipeline name',
    );
    expect(rejection(['reset', '--json'])).toContain("Unknown option '--json'");
    expect(rejection(['gaps', '--yes'])).toContain("Unknown option '--yes'");
  });
});

describe('renderGaps', () => {
  const gap = (id: number, from: bigint, until: bigint, reached: string | null): RecordedGap => ({
    id,
    pipeline: 'tidemark-stream',
    topic: 'tidemark.shop.orders',
    partition: 3,
    missingFrom: from,
    missingUntil: until,
    reachedEventTime: reached === null ? null : new Date(reached),
    detectedAt: new Date('2026-12-02T09:00:00Z'),
  });

  it('shows each gap, the changes never read, and from when they were written', () => {
    const lines = renderGaps([
      gap(2, 100n, 150n, '2026-11-30T12:00:00Z'),
      gap(1, 7n, 9n, '2026-11-29T08:30:00Z'),
    ]);
    const [table, , summary, advice] = lines;
    expect(table?.split('\n')[2]).toMatch(
      /^ 2 +tidemark-stream +tidemark\.shop\.orders\/3 +50 +100\.\.149 +2026-11-30 12:00:00 +2026-12-02 09:00:00$/,
    );
    expect(summary).toContain('2 gap(s), 52 change(s) never read');
    expect(advice).toContain('written after 2026-11-29 08:30:00');
  });

  it('dates the changes from the start of the partition when a gap opened before any was read', () => {
    const [, , , advice] = renderGaps([
      gap(2, 0n, 5n, null),
      gap(1, 7n, 9n, '2026-11-29T08:30:00Z'),
    ]);
    expect(advice).toContain('written after the partition began');
  });

  it('says so when there are none', () => {
    expect(renderGaps([])).toEqual(['no gaps recorded']);
  });
});
