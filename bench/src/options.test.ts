import { TidemarkError } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BENCH_OPTIONS, parseBenchArgs, parseDurationMs } from './options';

describe('parseBenchArgs', () => {
  it('fills in the defaults', () => {
    expect(parseBenchArgs([])).toEqual(DEFAULT_BENCH_OPTIONS);
  });

  it('reads sizes and durations', () => {
    const options = parseBenchArgs([
      '--operations',
      '20000',
      '--load-rate',
      '2000',
      '--load-duration',
      '10s',
      '--pipeline-timeout',
      '2m',
      '--out',
      '/tmp/stream.json',
    ]);
    expect(options).toMatchObject({
      rangeOperations: 20_000,
      loadRatePerSec: 2_000,
      loadDurationMs: 10_000,
      pipelineTimeoutMs: 120_000,
      out: '/tmp/stream.json',
    });
  });

  it('names every bad flag at once', () => {
    let error: unknown;
    try {
      parseBenchArgs(['--operations', '1.5', '--load-duration', 'soon']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('BAD_INPUT');
    expect((error as TidemarkError).context.problems).toEqual([
      '--operations: expected a whole number greater than 0, got 1.5',
      '--load-duration: expected a duration such as 500ms, 30s or 2m, got soon',
    ]);
  });

  it('selects the batch part and its sizes', () => {
    expect(
      parseBenchArgs(['--only', 'batch', '--batch-changes', '100000', '--batch-day', '2031-02-03']),
    ).toMatchObject({ only: 'batch', batchChanges: 100_000, batchDay: '2031-02-03' });
    expect(() => parseBenchArgs(['--only', 'both'])).toThrow(
      /--only: expected one of stream, batch/,
    );
    expect(() => parseBenchArgs(['--batch-day', 'tomorrow'])).toThrow(/--batch-day/);
  });

  it('rejects unknown flags and answers --help', () => {
    expect(() => parseBenchArgs(['--rate', '5'])).toThrow(/Unknown option '--rate'/);
    expect(parseBenchArgs(['--help'])).toBe('help');
  });
});

describe('parseDurationMs', () => {
  it('knows ms, s and m', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('1.5s')).toBe(1_500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('2h')).toBeUndefined();
  });
});
