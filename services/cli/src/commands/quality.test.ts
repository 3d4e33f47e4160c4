import { TidemarkError } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { parseQualityArgs } from './quality';

function rejection(argv: string[]): TidemarkError {
  try {
    parseQualityArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('BAD_INPUT');
    return error as TidemarkError;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseQualityArgs', () => {
  it('reads the day and --json', () => {
    expect(parseQualityArgs(['--date', '2026-11-22'])).toEqual({
      day: { kind: 'day', day: '2026-11-22' },
      json: false,
    });
    expect(parseQualityArgs(['--date', 'latest', '--json'])).toEqual({
      day: { kind: 'latest' },
      json: true,
    });
  });

  it('names what is wrong with --date', () => {
    expect(rejection([]).message).toContain('--date: required');
    expect(rejection(['--date', 'yesterday']).message).toBe(
      '--date: expected a day as yyyy-mm-dd, e.g. 2026-11-22, or latest, got "yesterday"',
    );
  });

  it('rejects unknown options with the usage', () => {
    expect(rejection(['--date', 'latest', '--format', 'json']).message).toContain(
      'usage: tidemark quality',
    );
  });
});
