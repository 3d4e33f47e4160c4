// What `npm run chaos` injects, and when: pure, so the order and the spacing can be tested.

/** The faults, in the order each round injects them. */
export const FAULTS = ['worker', 'temporal', 'stream', 'connect', 'kafka', 'postgres'] as const;
export type Fault = (typeof FAULTS)[number];

/** Faults that strike the batch layer: a round's backfill runs while they are injected. */
export const BATCH_FAULTS: readonly Fault[] = ['worker', 'temporal'];

export interface PlannedFault {
  round: number;
  fault: Fault;
  /** How long the run lets the platform work before this injection. */
  waitMs: number;
}

/**
 * `rounds` rounds of the chosen faults, in FAULTS order within a round (the batch faults first,
 * while the round's backfill runs), each after a random wait in [minWaitMs, maxWaitMs).
 */
export function chaosPlan(
  faults: readonly Fault[],
  rounds: number,
  random: () => number,
  wait: { minWaitMs: number; maxWaitMs: number },
): PlannedFault[] {
  const chosen = FAULTS.filter((fault) => faults.includes(fault));
  const plan: PlannedFault[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const fault of chosen) {
      const waitMs = Math.floor(wait.minWaitMs + random() * (wait.maxWaitMs - wait.minWaitMs));
      plan.push({ round, fault, waitMs });
    }
  }
  return plan;
}

/** Parses `--faults a,b`: every name must be a fault. */
export function parseFaults(list: string): Fault[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(FAULTS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `--faults takes a comma-separated list of ${FAULTS.join(', ')}; ` +
        (unknown.length > 0 ? `unknown: ${unknown.join(', ')}` : 'got none'),
    );
  }
  return names as Fault[];
}
