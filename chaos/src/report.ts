import { floodRatio, type FloodResult } from './flood';
import { FAULTS, type Fault } from './plan';

/** The good rows beside a poison flood keep at least this share of their rate without it. */
export const FLOOD_MIN_RATIO = 0.8;

/** One fault injected, and when the platform worked again (null: not within the limit). */
export interface Injection {
  round: number;
  fault: Fault;
  /** From the kill until the platform did its work again (see `recovery` in run-chaos.ts). */
  recoveryMs: number | null;
  /** A batch fault struck while the round's backfill still ran. */
  duringBackfill?: boolean;
  /**
   * Where the recovery went: the service killed and started again (`restart`); then, for a probe
   * order written after it, from its commit until Kafka Connect produced it (`capture`) and from
   * there until the stream landed it (`land`).
   */
  stagesMs?: { restart: number; capture?: number; land?: number };
}

/** What the checks after the run found. */
export interface ChaosChecks {
  /** Windows whose provisional value differs from the source's, summed by direction. */
  changesLost: number;
  changesCountedTwice: number;
  /**
   * Changes in the late ledger: they came after their window closed, so provisional values leave
   * them out by design (the nightly consolidation counts them); the two figures above add them.
   */
  changesLate: number;
  /** Source rows whose latest image the changelog does not hold. */
  changelogMissing: number;
  /** Backfills that completed with final values equal to the source, of those started. */
  backfillsExact: number;
  backfills: number;
  /** Dead letters written during the run (the load writes no poison: each is a defect). */
  deadLetters: number;
}

export interface FaultSummary {
  fault: Fault;
  count: number;
  recoveredP50Ms: number | null;
  recoveredMaxMs: number | null;
  /** Injections after which the platform did not work again within the limit. */
  unrecovered: number;
}

/** Per fault: how many injections, and the recovery times' median and maximum. */
export function summarizeFaults(injections: readonly Injection[]): FaultSummary[] {
  return FAULTS.flatMap((fault) => {
    const mine = injections.filter((injection) => injection.fault === fault);
    if (mine.length === 0) return [];
    const times = mine
      .map((injection) => injection.recoveryMs)
      .filter((ms): ms is number => ms !== null)
      .sort((a, b) => a - b);
    return [
      {
        fault,
        count: mine.length,
        recoveredP50Ms:
          times.length === 0 ? null : (times[Math.floor((times.length - 1) / 2)] ?? null),
        recoveredMaxMs: times.length === 0 ? null : (times.at(-1) ?? null),
        unrecovered: mine.length - times.length,
      },
    ];
  });
}

/** Counts lost and counted twice from two maps of per-window counts (source, provisional). */
export function countDifferences(
  source: ReadonlyMap<string, number>,
  provisional: ReadonlyMap<string, number>,
): { lost: number; twice: number } {
  let lost = 0;
  let twice = 0;
  for (const key of new Set([...source.keys(), ...provisional.keys()])) {
    const difference = (provisional.get(key) ?? 0) - (source.get(key) ?? 0);
    if (difference < 0) lost -= difference;
    else twice += difference;
  }
  return { lost, twice };
}

/** Whether a flood passed: every poison row dead-lettered, the good rows fast enough. */
export function floodPassed(flood: FloodResult): boolean {
  return flood.deadLettered === flood.poisonRows && floodRatio(flood) >= FLOOD_MIN_RATIO;
}

/** Whether the run passed: every injection recovered and every check clean. */
export function passed(
  injections: readonly Injection[],
  checks: ChaosChecks,
  flood?: FloodResult,
): boolean {
  return (
    (flood === undefined || floodPassed(flood)) &&
    injections.every((injection) => injection.recoveryMs !== null) &&
    checks.changesLost === 0 &&
    checks.changesCountedTwice === 0 &&
    checks.changelogMissing === 0 &&
    checks.backfillsExact === checks.backfills &&
    checks.deadLetters === 0
  );
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** The table `npm run chaos` prints (and the README shows). */
export function renderChaosTable(
  injections: readonly Injection[],
  checks: ChaosChecks,
  flood?: FloodResult,
): string {
  const rows = summarizeFaults(injections).map((summary) => [
    summary.fault,
    String(summary.count),
    seconds(summary.recoveredP50Ms),
    seconds(summary.recoveredMaxMs),
    String(summary.unrecovered),
  ]);
  const header = ['fault (kill -9)', 'count', 'recovery p50', 'recovery max', 'not recovered'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  return [
    line(header),
    ...rows.map(line),
    '',
    `changes lost: ${checks.changesLost}; counted twice: ${checks.changesCountedTwice}; ` +
      `late by design (in the late ledger): ${checks.changesLate}; ` +
      `source rows missing from the changelog: ${checks.changelogMissing}`,
    `backfills exact: ${checks.backfillsExact} of ${checks.backfills}; dead letters: ${checks.deadLetters}`,
    ...(flood ? [floodLine(flood)] : []),
    passed(injections, checks, flood) ? 'PASSED' : 'FAILED',
  ].join('\n');
}

const rate = (perSec: number) => `${Math.round(perSec).toLocaleString('en-US')}/s`;

function floodLine(flood: FloodResult): string {
  return (
    `poison flood: ${flood.deadLettered.toLocaleString('en-US')} of ` +
    `${flood.poisonRows.toLocaleString('en-US')} dead-lettered; good rows ` +
    `${rate(flood.floodRowsPerSec)} beside them, ${rate(flood.baselineRowsPerSec)} without ` +
    `(${Math.round(floodRatio(flood) * 100)} %, at least ${FLOOD_MIN_RATIO * 100} %)`
  );
}
