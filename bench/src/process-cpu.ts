import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** The groups of processes the bench's machine runs, as CPU time is split among them. */
export const PROCESS_GROUPS = [
  'pipeline',
  'postgresql',
  'kafka broker',
  'kafka connect',
  'temporal',
  'kernel',
  'other',
] as const;
export type ProcessGroup = (typeof PROCESS_GROUPS)[number];

/** One process's CPU time so far, its own and that of the children it has reaped. */
export interface ProcessCpu {
  pid: number;
  group: ProcessGroup;
  ownMs: number;
  reapedChildrenMs: number;
}

/**
 * The CPU clock ticks of a /proc/<pid>/stat line: utime, stime, cutime, cstime. The command
 * name (field 2) may hold spaces and parentheses, so fields are counted after its last `)`.
 */
export function parseProcStat(stat: string): { own: number; reapedChildren: number } | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0]; utime is field 14, so fields[11].
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  if ([utime, stime, cutime, cstime].some((value) => value === undefined || Number.isNaN(value)))
    return undefined;
  return {
    own: (utime as number) + (stime as number),
    reapedChildren: (cutime as number) + (cstime as number),
  };
}

/** The script of the bench's other pipeline processes (the scale-out phase's second consumer). */
export const PIPELINE_PROCESS_SCRIPT = 'src/pipeline-process.ts';

/** Which group a process belongs to, from its command line (NUL-separated, as /proc gives it). */
export function groupOf(pid: number, cmdline: string, pipelinePid: number): ProcessGroup {
  if (pid === pipelinePid) return 'pipeline';
  // Kernel threads have no command line (writeback, memory monitoring, ...).
  if (cmdline === '') return 'kernel';
  const args = cmdline.split('\0');
  if (args.some((arg) => arg.endsWith(PIPELINE_PROCESS_SCRIPT))) return 'pipeline';
  const program = (args[0] ?? '').split('/').at(-1) ?? '';
  if (program === 'postgres' || program.startsWith('postgres:')) return 'postgresql';
  if (args.includes('kafka.Kafka')) return 'kafka broker';
  if (args.some((arg) => arg.includes('ConnectDistributed'))) return 'kafka connect';
  if (program.startsWith('temporal')) return 'temporal';
  return 'other';
}

/**
 * CPU milliseconds each group used between two snapshots. A process that exited meanwhile is
 * counted through its parent's reaped-children time (PostgreSQL's postmaster reaps its
 * backends); one that started meanwhile counts from zero.
 */
export function cpuByGroup(
  before: readonly ProcessCpu[],
  after: readonly ProcessCpu[],
): Record<ProcessGroup, number> {
  const earlier = new Map(before.map((process) => [process.pid, process]));
  const used = Object.fromEntries(PROCESS_GROUPS.map((group) => [group, 0])) as Record<
    ProcessGroup,
    number
  >;
  for (const process of after) {
    const start = earlier.get(process.pid);
    const own = process.ownMs - (start?.ownMs ?? 0);
    const reaped = process.reapedChildrenMs - (start?.reapedChildrenMs ?? 0);
    used[process.group] += Math.max(0, own) + Math.max(0, reaped);
  }
  return used;
}

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** Every process's CPU time from /proc; null where there is no /proc (not Linux). */
export async function readProcessCpu(pipelinePid = process.pid): Promise<ProcessCpu[] | null> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return null;
  }
  const msPerTick = 1000 / clockTicksPerSecond();
  const processes = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry): Promise<ProcessCpu | undefined> => {
        const pid = Number(entry);
        try {
          const [stat, cmdline] = await Promise.all([
            readFile(`/proc/${entry}/stat`, 'utf8'),
            readFile(`/proc/${entry}/cmdline`, 'utf8'),
          ]);
          const ticks = parseProcStat(stat);
          if (!ticks) return undefined;
          return {
            pid,
            group: groupOf(pid, cmdline, pipelinePid),
            ownMs: ticks.own * msPerTick,
            reapedChildrenMs: ticks.reapedChildren * msPerTick,
          };
        } catch {
          return undefined; // it exited while being read
        }
      }),
  );
  return processes.filter((found): found is ProcessCpu => found !== undefined);
}

/** Measures each group's CPU time from now until `stop`; null where it cannot be read. */
export async function processCpuMeter(): Promise<{
  stop(): Promise<Record<ProcessGroup, number> | null>;
}> {
  const start = await readProcessCpu();
  return {
    async stop() {
      const end = await readProcessCpu();
      return start && end ? cpuByGroup(start, end) : null;
    },
  };
}

/** CPU time per change, by group, over a phase: what the changes cost the whole machine. */
export interface CpuPerChange {
  /** Microseconds of CPU per change, by process group. */
  byGroupUs: Record<ProcessGroup, number>;
  totalUs: number;
  /**
   * The rate at which the machine's cores would all be busy at this cost per change: no
   * concurrency can take the pipeline past it, only less CPU per change.
   */
  cpuBoundEps: number;
}

/** Per-change CPU from the milliseconds each group used while `changes` were processed. */
export function cpuPerChangeOf(
  usedMs: Record<ProcessGroup, number>,
  changes: number,
  cores: number,
): CpuPerChange | null {
  if (changes <= 0) return null;
  const byGroupUs = Object.fromEntries(
    PROCESS_GROUPS.map((group) => [group, Math.round((usedMs[group] * 1000) / changes)]),
  ) as Record<ProcessGroup, number>;
  const totalUs = PROCESS_GROUPS.reduce((total, group) => total + byGroupUs[group], 0);
  return {
    byGroupUs,
    totalUs,
    cpuBoundEps: totalUs > 0 ? Math.round((cores * 1e6) / totalUs) : 0,
  };
}
