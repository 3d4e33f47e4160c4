import type { MetricDefinition } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { IntervalEmissions } from './pipeline-ticker';

const metric = (name: string, emit: MetricDefinition['emit']) =>
  ({ name, emit }) as MetricDefinition;

describe('IntervalEmissions', () => {
  it('makes an every-metric due once its interval has passed since its last emission', () => {
    const intervals = new IntervalEmissions();
    const every = metric('m', { kind: 'every', intervalMs: 10_000 });
    expect(intervals.isDue(every, 10_000)).toBe(true);
    intervals.emitted(['m'], 10_000);
    expect(intervals.isDue(every, 19_999)).toBe(false);
    expect(intervals.isDue(every, 20_000)).toBe(true);
  });

  it('never makes other policies due', () => {
    const intervals = new IntervalEmissions();
    expect(intervals.isDue(metric('u', { kind: 'on_update' }), 1e12)).toBe(false);
    expect(intervals.isDue(metric('c', { kind: 'on_window_close' }), 1e12)).toBe(false);
  });
});
