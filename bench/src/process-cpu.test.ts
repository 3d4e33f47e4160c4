import { describe, expect, it } from 'vitest';
import { cpuByGroup, cpuPerChangeOf, groupOf, parseProcStat, type ProcessCpu } from './process-cpu';

// A real /proc/<pid>/stat line's shape, with a command name holding a space and a parenthesis.
const stat = (utime: number, stime: number, cutime: number, cstime: number) =>
  `4242 (postgres: w) R 1 4242 4242 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 99 1000 50`;

describe('parseProcStat', () => {
  it('reads own and reaped-children ticks after the command name', () => {
    expect(parseProcStat(stat(120, 30, 7, 3))).toEqual({ own: 150, reapedChildren: 10 });
  });

  it('is undefined for a truncated line', () => {
    expect(parseProcStat('4242 (x) R 1 2')).toBeUndefined();
  });
});

describe('groupOf', () => {
  it('tells the stack apart by command line', () => {
    expect(groupOf(7, 'node\0bench', 7)).toBe('pipeline');
    expect(groupOf(8, '/usr/lib/postgresql/15/bin/postgres\0-D\0/data', 7)).toBe('postgresql');
    expect(groupOf(9, 'postgres: tidemark warehouse 127.0.0.1(5000) idle\0', 7)).toBe('postgresql');
    expect(groupOf(10, 'java\0-cp\0x\0kafka.Kafka\0server.properties', 7)).toBe('kafka broker');
    expect(
      groupOf(11, 'java\0-cp\0x\0org.apache.kafka.connect.cli.ConnectDistributed\0w.properties', 7),
    ).toBe('kafka connect');
    expect(groupOf(12, '/cache/temporal\0server\0start-dev', 7)).toBe('temporal');
    expect(groupOf(13, 'node\0loadgen', 7)).toBe('other');
    // The scale-out phase's second consumer process counts as the pipeline's.
    expect(groupOf(15, 'node\0--import\0tsx\0src/pipeline-process.ts\0bench-1-scale-out', 7)).toBe(
      'pipeline',
    );
    expect(groupOf(14, '', 7)).toBe('kernel');
  });
});

describe('cpuByGroup', () => {
  const cpu = (pid: number, group: ProcessCpu['group'], ownMs: number, reapedChildrenMs = 0) => ({
    pid,
    group,
    ownMs,
    reapedChildrenMs,
  });

  it('sums each group\u2019s growth, exited children through their parent, new ones from zero', () => {
    const before = [
      cpu(1, 'postgresql', 1000, 50),
      cpu(2, 'postgresql', 300),
      cpu(3, 'pipeline', 10),
    ];
    // Backend 2 exited (the postmaster reaped its 400 ms), backend 4 started.
    const after = [
      cpu(1, 'postgresql', 1100, 450),
      cpu(4, 'postgresql', 80),
      cpu(3, 'pipeline', 510),
    ];
    expect(cpuByGroup(before, after)).toMatchObject({ postgresql: 580, pipeline: 500, other: 0 });
  });
});

describe('cpuPerChangeOf', () => {
  it('gives microseconds per change and the rate that would fill every core', () => {
    const used = {
      pipeline: 1000,
      postgresql: 800,
      'kafka broker': 150,
      'kafka connect': 0,
      temporal: 50,
      kernel: 0,
      other: 0,
    };
    const perChange = cpuPerChangeOf(used, 10_000, 2);
    expect(perChange?.byGroupUs.pipeline).toBe(100);
    expect(perChange?.totalUs).toBe(200);
    expect(perChange?.cpuBoundEps).toBe(10_000);
  });

  it('is null without changes', () => {
    expect(
      cpuPerChangeOf(
        {
          pipeline: 1,
          postgresql: 0,
          'kafka broker': 0,
          'kafka connect': 0,
          temporal: 0,
          kernel: 0,
          other: 0,
        },
        0,
        2,
      ),
    ).toBeNull();
  });
});
