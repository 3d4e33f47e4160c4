import { silentLogger } from '@tidemark/runtime';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SinkBackpressure } from './backpressure';
import { IntakePause, pauseAfterBatch, SESSION_QUEUE_PAUSE_MS } from './intake-pause';

describe('pauseAfterBatch', () => {
  it('takes the longer of the pause of the sink and that of the session queue', () => {
    expect(pauseAfterBatch(0, false)).toBe(0);
    expect(pauseAfterBatch(0, true)).toBe(SESSION_QUEUE_PAUSE_MS);
    expect(pauseAfterBatch(4_000, true)).toBe(4_000);
    expect(pauseAfterBatch(300, false)).toBe(300);
  });
});

describe('IntakePause', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  function setUp() {
    const calls: string[] = [];
    const consumer = {
      pause: (topics: { topic: string; partitions: number[] }[]) =>
        calls.push(`pause ${topics[0]?.topic}/${topics[0]?.partitions[0]}`),
      resume: (topics: { topic: string; partitions: number[] }[]) =>
        calls.push(`resume ${topics[0]?.topic}/${topics[0]?.partitions[0]}`),
    };
    const backpressure = new SinkBackpressure({
      sinkBudgetMs: 100,
      maxPauseMs: 10_000,
      smoothing: 1,
    });
    return { calls, pause: new IntakePause(consumer, backpressure, silentLogger) };
  }

  it('pauses a partition whose batch overran the budget, and resumes it after', () => {
    const { calls, pause } = setUp();
    expect(pause.afterBatch('t', 2, 50, false)).toBe(0);
    expect(calls).toEqual([]);
    expect(pause.afterBatch('t', 2, 600, false)).toBe(500);
    expect(calls).toEqual(['pause t/2']);
    vi.advanceTimersByTime(499);
    expect(calls).toEqual(['pause t/2']);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['pause t/2', 'resume t/2']);
  });

  it('pauses while the session queue is behind, and resumes nothing once cleared', () => {
    const { calls, pause } = setUp();
    expect(pause.afterBatch('t', 0, 10, true)).toBe(SESSION_QUEUE_PAUSE_MS);
    pause.clear();
    vi.advanceTimersByTime(SESSION_QUEUE_PAUSE_MS);
    expect(calls).toEqual(['pause t/0']);
  });
});
