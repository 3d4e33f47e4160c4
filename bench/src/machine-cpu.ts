import { cpus, type CpuInfo } from 'node:os';

/** CPU time of every core of the machine, summed: busy (user, nice, sys, irq) and in all. */
export interface MachineCpuTimes {
  busyMs: number;
  totalMs: number;
}

/** The summed times of a snapshot of `os.cpus()`. */
export function machineCpuTimesOf(cores: readonly Pick<CpuInfo, 'times'>[]): MachineCpuTimes {
  let busyMs = 0;
  let totalMs = 0;
  for (const { times } of cores) {
    const busy = times.user + times.nice + times.sys + times.irq;
    busyMs += busy;
    totalMs += busy + times.idle;
  }
  return { busyMs, totalMs };
}

/**
 * The share of the whole machine's CPU (every process, every core) busy between two snapshots:
 * near 1 means the machine is saturated, so more concurrency cannot help and only less CPU per
 * change can. Null when no time passed.
 */
export function machineBusyShare(before: MachineCpuTimes, after: MachineCpuTimes): number | null {
  const totalMs = after.totalMs - before.totalMs;
  if (totalMs <= 0) return null;
  return Math.min(1, Math.max(0, (after.busyMs - before.busyMs) / totalMs));
}

/** Measures the machine's busy share from now until `busyShare` is called. */
export function machineCpuMeter(): { busyShare(): number | null } {
  const start = machineCpuTimesOf(cpus());
  return { busyShare: () => machineBusyShare(start, machineCpuTimesOf(cpus())) };
}
