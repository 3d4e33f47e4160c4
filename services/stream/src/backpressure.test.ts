import { describe, expect, it } from 'vitest';
import { SinkBackpressure } from './backpressure';

describe('SinkBackpressure', () => {
  it('does not pause while the sink keeps within its budget', () => {
    const backpressure = new SinkBackpressure({ sinkBudgetMs: 500, maxPauseMs: 5_000 });
    for (const sinkMs of [100, 300, 499, 200]) expect(backpressure.observe(sinkMs)).toBe(0);
  });

  it('pauses by the running overshoot, bounded, and resumes once the sink recovers', () => {
    const backpressure = new SinkBackpressure({
      sinkBudgetMs: 500,
      maxPauseMs: 2_000,
      smoothing: 0.5,
    });
    expect(backpressure.observe(400)).toBe(0);
    expect(backpressure.observe(1_400)).toBe(400); // average 900
    expect(backpressure.observe(10_000)).toBe(2_000); // average 5450, capped
    let pause = Number.POSITIVE_INFINITY;
    for (let batch = 0; batch < 10 && pause > 0; batch += 1) pause = backpressure.observe(100);
    expect(pause).toBe(0);
    expect(backpressure.averageSinkMs).toBeLessThanOrEqual(500);
  });
});
