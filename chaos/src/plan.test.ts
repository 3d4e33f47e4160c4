import { describe, expect, it } from 'vitest';
import { chaosPlan, FAULTS, parseFaults } from './plan';

describe('chaosPlan', () => {
  it('injects each chosen fault once a round, batch faults first, after waits in the range', () => {
    let n = 0;
    const random = () => [0, 0.5, 0.999][n++ % 3]!;
    const plan = chaosPlan(['postgres', 'worker', 'stream'], 2, random, {
      minWaitMs: 1_000,
      maxWaitMs: 3_000,
    });
    expect(plan.map((entry) => `${entry.round}:${entry.fault}`)).toEqual([
      '1:worker',
      '1:stream',
      '1:postgres',
      '2:worker',
      '2:stream',
      '2:postgres',
    ]);
    expect(plan.map((entry) => entry.waitMs)).toEqual([1_000, 2_000, 2_998, 1_000, 2_000, 2_998]);
  });
});

describe('parseFaults', () => {
  it('takes a comma-separated list of the known faults', () => {
    expect(parseFaults('kafka, connect')).toEqual(['kafka', 'connect']);
    expect(parseFaults(FAULTS.join(','))).toEqual([...FAULTS]);
  });

  it('names what it does not know, and refuses an empty list', () => {
    expect(() => parseFaults('kafka,zookeeper')).toThrow(/unknown: zookeeper/);
    expect(() => parseFaults(' , ')).toThrow(/got none/);
  });
});
