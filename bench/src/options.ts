import { TidemarkError } from '@tidemark/runtime';
import { parseArgs } from 'node:util';

/** Sizes and durations of one bench run. */
export interface BenchOptions {
  /** Operations written into the source for the measured range (inserts, updates, deletes...). */
  rangeOperations: number;
  /** The pace of that write: high, so the range is written about as fast as the writer goes. */
  rangeRatePerSec: number;
  /** The load under which end-to-end latency is measured, in operations per second. */
  loadRatePerSec: number;
  loadDurationMs: number;
  /** Concurrent connections of the source writer, in both loads. */
  loadConnections: number;
  /** The change topics' end offsets must stay unchanged this long to count as delivered. */
  quietMs: number;
  /** Most time Debezium may take to deliver a load, and the pipeline to catch up after one. */
  deliveryTimeoutMs: number;
  /** Times the raw consumer reads the range; the median pass is the ceiling. */
  rawPasses: number;
  /** Most time the raw consumer may take over the range, per pass. */
  rawTimeoutMs: number;
  /** Most time the pipeline may take over the range; past it, the partial rate is reported. */
  pipelineTimeoutMs: number;
  /** Sample pg_stat_activity in the throughput phase: which statements take the time. */
  sqlProfile: boolean;
  /** Where the results are written, relative to the repository root unless absolute. */
  out: string;
  seed: number;
  /** Distinct customers of the load: per-customer session windows hold about operations / customers events. */
  customers: number;
  /** Which part runs: the stream bench, the batch bench, or both (stream first). */
  only: 'stream' | 'batch' | undefined;
  /** Changes of the batch bench's synthetic day. */
  batchChanges: number;
  /** The batch bench's day: far from real data, its changelog partitions are dropped after. */
  batchDay: string;
  /** Consolidations and baselines of the day; the median of each is reported. */
  batchPasses: number;
  /** Measure the backfill (its days are written, backfilled and removed). */
  backfill: boolean;
  /** The backfill's first day: in the past (a day is backfilled once complete), unused. */
  backfillFrom: string;
  /** Days of the backfill measurement, and changes per day. */
  backfillDays: number;
  backfillChangesPerDay: number;
  /** Where the batch results are written. */
  batchOut: string;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  rangeOperations: 150_000,
  rangeRatePerSec: 20_000,
  loadRatePerSec: 5_000,
  loadDurationMs: 30_000,
  loadConnections: 4,
  quietMs: 2_000,
  deliveryTimeoutMs: 120_000,
  rawPasses: 3,
  rawTimeoutMs: 60_000,
  pipelineTimeoutMs: 150_000,
  sqlProfile: true,
  out: 'bench/results/stream.json',
  seed: 20_250_101,
  // A shop's worth of customers: sessions of a few orders each. With a few hundred, every
  // customer's 30-minute session holds thousands of events, a different (pathological) bench.
  customers: 50_000,
  only: undefined,
  batchChanges: 1_000_000,
  batchDay: '2030-01-15',
  batchPasses: 1,
  backfill: true,
  backfillFrom: '1985-01-01',
  backfillDays: 365,
  backfillChangesPerDay: 3_000,
  batchOut: 'bench/results/batch.json',
};

const BENCH_PARTS = ['stream', 'batch'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const BENCH_USAGE = `usage: npm run bench -- [options]

  --operations 150000        operations written for the throughput range
  --range-rate 20000         pace of that write (ops/s; the writer goes as fast as it can)
  --load-rate 5000           load during the latency phase (ops/s)
  --load-duration 30s        how long the latency load runs (500ms, 30s, 2m)
  --connections 4            source connections of the writer
  --quiet 2s                 end offsets unchanged this long = Debezium has delivered
  --delivery-timeout 2m      most wait for Debezium, and for the pipeline to catch up
  --raw-passes 3             raw consumer passes over the range (the median is the ceiling)
  --raw-timeout 1m           most time for one raw pass over the range
  --pipeline-timeout 150s    most time for the pipeline over the range (partial rate past it)
  --no-sql-profile           do not sample pg_stat_activity during the throughput phase
  --seed 20250101            the load plan's seed
  --customers 50000          distinct customers (a few hundred: sessions of thousands of events)
  --out bench/results/stream.json
  --only stream|batch        run one part only (default: the stream bench, then the batch bench)
  --batch-changes 1000000    changes of the batch bench's synthetic day
  --batch-day 2030-01-15     its day (its changelog partitions are dropped afterwards)
  --batch-passes 1           consolidations and baselines of the day (the median is reported)
  --no-backfill              do not measure the backfill
  --backfill-from 1985-01-01 the backfill's first day (in the past; its partitions are dropped after)
  --backfill-days 365        days of the backfill measurement
  --backfill-changes 3000    changes per backfilled day
  --batch-out bench/results/batch.json`;

function usageError(problems: readonly string[]): TidemarkError {
  return new TidemarkError(
    'BAD_INPUT',
    `invalid bench options:\n  ${problems.join('\n  ')}\n\n${BENCH_USAGE}`,
    { context: { problems } },
  );
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;
const WHOLE_NUMBER = /^\d+$/;

/** Parses a duration such as 500ms, 30s or 2m; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] as keyof typeof DURATION_UNIT_MS;
  return Number(match[1]) * DURATION_UNIT_MS[unit];
}

/** The bench options from the command line with defaults; throws BAD_INPUT naming each bad flag. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        operations: { type: 'string' },
        'range-rate': { type: 'string' },
        'load-rate': { type: 'string' },
        'load-duration': { type: 'string' },
        connections: { type: 'string' },
        quiet: { type: 'string' },
        'delivery-timeout': { type: 'string' },
        'raw-passes': { type: 'string' },
        'raw-timeout': { type: 'string' },
        'pipeline-timeout': { type: 'string' },
        'no-sql-profile': { type: 'boolean' },
        seed: { type: 'string' },
        customers: { type: 'string' },
        out: { type: 'string' },
        only: { type: 'string' },
        'batch-changes': { type: 'string' },
        'batch-day': { type: 'string' },
        'batch-passes': { type: 'string' },
        'no-backfill': { type: 'boolean' },
        'backfill-from': { type: 'string' },
        'backfill-days': { type: 'string' },
        'backfill-changes': { type: 'string' },
        'batch-out': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw usageError([(error as Error).message]);
  }
  if (values.help) return 'help';
  const problems: string[] = [];
  const text = (flag: string) => {
    const value = values[flag];
    return typeof value === 'string' ? value : undefined;
  };
  const count = (flag: string, fallback: number) => {
    const value = text(flag);
    if (value === undefined) return fallback;
    if (!WHOLE_NUMBER.test(value) || Number(value) <= 0) {
      problems.push(`--${flag}: expected a whole number greater than 0, got ${value}`);
      return fallback;
    }
    return Number(value);
  };
  const duration = (flag: string, fallback: number) => {
    const value = text(flag);
    if (value === undefined) return fallback;
    const ms = parseDurationMs(value);
    if (ms === undefined || ms <= 0) {
      problems.push(`--${flag}: expected a duration such as 500ms, 30s or 2m, got ${value}`);
      return fallback;
    }
    return ms;
  };
  const d = DEFAULT_BENCH_OPTIONS;
  const options: BenchOptions = {
    rangeOperations: count('operations', d.rangeOperations),
    rangeRatePerSec: count('range-rate', d.rangeRatePerSec),
    loadRatePerSec: count('load-rate', d.loadRatePerSec),
    loadDurationMs: duration('load-duration', d.loadDurationMs),
    loadConnections: count('connections', d.loadConnections),
    quietMs: duration('quiet', d.quietMs),
    deliveryTimeoutMs: duration('delivery-timeout', d.deliveryTimeoutMs),
    rawPasses: count('raw-passes', d.rawPasses),
    rawTimeoutMs: duration('raw-timeout', d.rawTimeoutMs),
    pipelineTimeoutMs: duration('pipeline-timeout', d.pipelineTimeoutMs),
    sqlProfile: values['no-sql-profile'] !== true,
    seed: count('seed', d.seed),
    customers: count('customers', d.customers),
    out: text('out') ?? d.out,
    only: d.only,
    batchChanges: count('batch-changes', d.batchChanges),
    batchDay: text('batch-day') ?? d.batchDay,
    batchPasses: count('batch-passes', d.batchPasses),
    backfill: values['no-backfill'] !== true,
    backfillFrom: text('backfill-from') ?? d.backfillFrom,
    backfillDays: count('backfill-days', d.backfillDays),
    backfillChangesPerDay: count('backfill-changes', d.backfillChangesPerDay),
    batchOut: text('batch-out') ?? d.batchOut,
  };
  const only = text('only');
  if (only !== undefined) {
    if ((BENCH_PARTS as readonly string[]).includes(only)) {
      options.only = only as (typeof BENCH_PARTS)[number];
    } else {
      problems.push(`--only: expected one of ${BENCH_PARTS.join(', ')}, got ${only}`);
    }
  }
  if (!DAY.test(options.batchDay) || Number.isNaN(Date.parse(options.batchDay))) {
    problems.push(`--batch-day: expected a day such as 2030-01-15, got ${options.batchDay}`);
  }
  if (!DAY.test(options.backfillFrom) || Number.isNaN(Date.parse(options.backfillFrom))) {
    problems.push(
      `--backfill-from: expected a day such as 1985-01-01, got ${options.backfillFrom}`,
    );
  }
  if (options.out.trim() === '') problems.push('--out: expected a file path');
  if (options.batchOut.trim() === '') problems.push('--batch-out: expected a file path');
  if (problems.length > 0) throw usageError(problems);
  return options;
}
