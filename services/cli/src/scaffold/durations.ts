import { TidemarkError } from '@tidemark/runtime';

// Durations as a command line spells them (`90s`, `5m`, `1h`, `1d`) and as a generated
// definition reads them (`5 * MINUTE`).

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([1-9]\d*)(s|m|h|d)$/;

export function parseDuration(text: string, flag: string): number {
  const match = DURATION.exec(text);
  if (!match) {
    throw new TidemarkError(
      'BAD_INPUT',
      `${flag}: expected a duration such as 30s, 5m, 1h or 1d, got ${JSON.stringify(text)}`,
    );
  }
  return Number(match[1]) * UNITS[match[2] as keyof typeof UNITS];
}

/** `3600000` as `HOUR`, `300000` as `5 * MINUTE`: the constants of contracts/src/metrics/define.ts. */
export function durationSource(ms: number): string {
  for (const [unit, size] of [
    ['HOUR', 3_600_000],
    ['MINUTE', 60_000],
    ['SECOND', 1_000],
  ] as const) {
    if (ms % size === 0) return ms === size ? unit : `${ms / size} * ${unit}`;
  }
  return String(ms);
}
