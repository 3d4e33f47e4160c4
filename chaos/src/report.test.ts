import { describe, expect, it } from 'vitest';
import {
  countDifferences,
  passed,
  renderChaosTable,
  summarizeFaults,
  type ChaosChecks,
  type Injection,
} from './report';

const clean: ChaosChecks = {
  changesLost: 0,
  changesCountedTwice: 0,
  changesLate: 3,
  changelogMissing: 0,
  backfillsExact: 2,
  backfills: 2,
  deadLetters: 0,
};

const injections: Injection[] = [
  { round: 1, fault: 'kafka', recoveryMs: 30_000 },
  { round: 2, fault: 'kafka', recoveryMs: 20_000 },
  { round: 3, fault: 'kafka', recoveryMs: 40_000 },
  { round: 1, fault: 'stream', recoveryMs: 2_500 },
  { round: 1, fault: 'worker', recoveryMs: null, duringBackfill: true },
];

const flood = {
  goodRows: 10_000,
  poisonRows: 10_000,
  baselineRowsPerSec: 5_000,
  floodRowsPerSec: 4_100,
  deadLettered: 10_000,
};

describe('the chaos report', () => {
  it('passes a flood whose poison is all dead-lettered and whose good rows kept 80 % of their rate', () => {
    const recovered = injections.filter((injection) => injection.recoveryMs !== null);
    expect(passed(recovered, clean, flood)).toBe(true);
    expect(passed(recovered, clean, { ...flood, floodRowsPerSec: 3_900 })).toBe(false);
    expect(passed(recovered, clean, { ...flood, deadLettered: 9_999 })).toBe(false);
    expect(renderChaosTable(recovered, clean, flood)).toContain(
      'poison flood: 10,000 of 10,000 dead-lettered; good rows 4,100/s beside them, 5,000/s without (82 %, at least 80 %)',
    );
  });

  it('summarizes each fault: count, median and maximum recovery, those not recovered', () => {
    expect(summarizeFaults(injections)).toEqual([
      { fault: 'worker', count: 1, recoveredP50Ms: null, recoveredMaxMs: null, unrecovered: 1 },
      { fault: 'stream', count: 1, recoveredP50Ms: 2_500, recoveredMaxMs: 2_500, unrecovered: 0 },
      { fault: 'kafka', count: 3, recoveredP50Ms: 30_000, recoveredMaxMs: 40_000, unrecovered: 0 },
    ]);
  });

  it('counts a window below the source as lost and above it as counted twice', () => {
    const source = new Map([
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ]);
    const provisional = new Map([
      ['a', 3],
      ['b', 4],
      ['d', 1],
    ]);
    expect(countDifferences(source, provisional)).toEqual({ lost: 1, twice: 3 });
  });

  it('passes only when everything recovered and every check is clean', () => {
    const recovered = injections.filter((injection) => injection.recoveryMs !== null);
    expect(passed(recovered, clean)).toBe(true);
    expect(passed(injections, clean)).toBe(false);
    expect(passed(recovered, { ...clean, changesCountedTwice: 1 })).toBe(false);
    expect(passed(recovered, { ...clean, backfillsExact: 1 })).toBe(false);
    expect(passed(recovered, { ...clean, deadLetters: 1 })).toBe(false);
  });

  it('prints a row per fault and the checks', () => {
    const table = renderChaosTable(injections, clean);
    expect(table.split('\n').slice(0, 4)).toEqual([
      'fault (kill -9)  count  recovery p50  recovery max  not recovered',
      'worker               1             -             -              1',
      'stream               1         2.5 s         2.5 s              0',
      'kafka                3        30.0 s        40.0 s              0',
    ]);
    expect(table).toContain('changes lost: 0; counted twice: 0');
    expect(table.endsWith('FAILED')).toBe(true);
  });
});
