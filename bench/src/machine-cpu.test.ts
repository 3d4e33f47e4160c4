import { describe, expect, it } from 'vitest';
import { machineBusyShare, machineCpuTimesOf } from './machine-cpu';

const core = (user: number, sys: number, idle: number, nice = 0, irq = 0) => ({
  times: { user, nice, sys, idle, irq },
});

describe('machineCpuTimesOf', () => {
  it('sums busy and total time over every core', () => {
    expect(machineCpuTimesOf([core(100, 20, 80, 5, 5), core(50, 10, 140)])).toEqual({
      busyMs: 190,
      totalMs: 410,
    });
  });
});

describe('machineBusyShare', () => {
  it('is the busy share of the time between two snapshots', () => {
    const before = machineCpuTimesOf([core(100, 0, 100), core(100, 0, 100)]);
    const after = machineCpuTimesOf([core(190, 0, 110), core(170, 10, 120)]);
    expect(machineBusyShare(before, after)).toBeCloseTo(170 / 200);
  });

  it('is null when no time passed', () => {
    const same = machineCpuTimesOf([core(1, 1, 1)]);
    expect(machineBusyShare(same, same)).toBeNull();
  });
});
