import { TidemarkError } from '@tidemark/runtime';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** What the traffic is made of; every share is of all operations, the rest are new orders. */
export interface LoadMix {
  /** Updates of existing orders: status transitions, amount corrections, event-time moves. */
  updates: number;
  /** Deletes of existing orders (their payments go with them, ON DELETE CASCADE). */
  deletes: number;
  /** A client retry re-running the very same status UPDATE (the second one has before == after). */
  duplicates: number;
  /** Primary-key changes (`SET id = <new uuid>`) of orders without payments. */
  pkChanges: number;
  /** Payments for existing orders. */
  payments: number;
  /** Rows the database accepts but the contract rejects (they should land in the DLQ). */
  poison: number;
}

/** How the plan is generated; pure data, no I/O. */
export interface LoadPlanOptions extends Partial<LoadMix> {
  /** The same seed (and the same `newId`) reproduces the same plan. */
  seed?: number;
  /** Number of distinct customers; a few of them place most orders. */
  customers?: number;
  /** customer_id is `<customerPrefix>-<n>`, so a test can find its own rows. */
  customerPrefix?: string;
  /** Currency codes (three capital letters), most frequent first. */
  currencies?: readonly string[];
  /** Share of inserted rows whose event time is `now - lateByMs`, past allowed lateness. */
  late?: number;
  lateByMs?: number;
  /** Share of inserted rows whose event time is `now - random(0..outOfOrderMaxMs)`. */
  outOfOrder?: number;
  outOfOrderMaxMs?: number;
  /** Share of payments that fail. */
  paymentFailures?: number;
  /** Share of order updates that correct the amount rather than move the status. */
  amountCorrections?: number;
  /** Share of order updates that move created_at (the event time) back by 30 s to 150 s. */
  eventTimeMoves?: number;
  /** Orders the planner remembers as targets; the oldest are forgotten beyond it (memory bound). */
  maxTrackedOrders?: number;
  /** New primary keys; by default uuids derived from the seed. */
  newId?: () => string;
}

/** How the plan is written into the source database. */
export interface LoadRunOptions {
  /** Operations per second. */
  ratePerSec: number;
  /** Stop after this long (default 60 s unless `operations` is given). */
  durationMs?: number;
  /** Stop after this many operations. */
  operations?: number;
  /** Concurrent connections, each writing its own share of the orders (default 4). */
  connections?: number;
  /** Pacing interval: each tick writes the operations due since the last one (default 10 ms). */
  tickMs?: number;
  /** Most operations in one transaction (default 500). */
  maxTransactionSize?: number;
  /** Keep the ids each kind of operation wrote in the report (default true). */
  recordIds?: boolean;
  /** Stops the load cleanly; the report covers what was committed. */
  signal?: AbortSignal;
}

export type LoadOptions = LoadPlanOptions & LoadRunOptions;

export type ResolvedPlanOptions = Required<Omit<LoadPlanOptions, 'newId'>> &
  Pick<LoadPlanOptions, 'newId'>;

/** How each option is called where it came from (e.g. `--late` on the command line). */
export type OptionLabels = Partial<Record<keyof LoadOptions, string>>;

export const DEFAULT_CURRENCIES = ['EUR', 'USD', 'GBP'] as const;

export const DEFAULT_PLAN_OPTIONS: Omit<ResolvedPlanOptions, 'seed' | 'newId'> = {
  updates: 0.1,
  deletes: 0.02,
  duplicates: 0.01,
  pkChanges: 0.005,
  payments: 0.3,
  poison: 0,
  customers: 500,
  customerPrefix: 'customer',
  currencies: DEFAULT_CURRENCIES,
  late: 0,
  lateByMs: 15 * MINUTE,
  outOfOrder: 0,
  outOfOrderMaxMs: 3 * SECOND,
  paymentFailures: 0.08,
  amountCorrections: 0.15,
  eventTimeMoves: 0.05,
  maxTrackedOrders: 200_000,
};

export const DEFAULT_DURATION_MS = MINUTE;

export const MIX_KEYS = [
  'updates',
  'deletes',
  'duplicates',
  'pkChanges',
  'payments',
  'poison',
] as const satisfies readonly (keyof LoadMix)[];

const SHARE_KEYS = [
  ...MIX_KEYS,
  'late',
  'outOfOrder',
  'paymentFailures',
  'amountCorrections',
  'eventTimeMoves',
] as const;

const CURRENCY_CODE = /^[A-Z]{3}$/;

/** Every problem with the plan options, each naming the option and what it expects. */
export function planOptionProblems(options: LoadPlanOptions, labels: OptionLabels = {}): string[] {
  const name = (key: keyof LoadOptions) => labels[key] ?? key;
  const problems: string[] = [];
  for (const key of SHARE_KEYS) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) {
      problems.push(`${name(key)}: expected a share between 0 and 1, got ${value}`);
    }
  }
  const mix = MIX_KEYS.map((key) => options[key] ?? DEFAULT_PLAN_OPTIONS[key]);
  const mixTotal = mix.reduce((sum, share) => sum + share, 0);
  if (mix.every((share) => share >= 0 && share <= 1) && mixTotal > 1 + 1e-9) {
    problems.push(
      `${MIX_KEYS.map(name).join(' + ')} = ${round(mixTotal)}: the shares of operations must add up to at most 1 (the rest are new orders)`,
    );
  }
  const late = options.late ?? DEFAULT_PLAN_OPTIONS.late;
  const outOfOrder = options.outOfOrder ?? DEFAULT_PLAN_OPTIONS.outOfOrder;
  if (late >= 0 && outOfOrder >= 0 && late + outOfOrder > 1 + 1e-9) {
    problems.push(
      `${name('late')} + ${name('outOfOrder')} = ${round(late + outOfOrder)}: a row is either late or out of order, so they must add up to at most 1`,
    );
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    problems.push(`${name('seed')}: expected an integer, got ${options.seed}`);
  }
  positiveInteger(options.customers, name('customers'), problems);
  positiveInteger(options.maxTrackedOrders, name('maxTrackedOrders'), problems);
  nonNegativeMs(options.lateByMs, name('lateByMs'), problems);
  nonNegativeMs(options.outOfOrderMaxMs, name('outOfOrderMaxMs'), problems);
  if (options.customerPrefix !== undefined && options.customerPrefix.length === 0) {
    problems.push(`${name('customerPrefix')}: expected a non-empty prefix`);
  }
  if (options.currencies !== undefined) {
    if (options.currencies.length === 0) {
      problems.push(`${name('currencies')}: expected at least one currency code such as EUR`);
    }
    const bad = options.currencies.filter((code) => !CURRENCY_CODE.test(code));
    if (bad.length > 0) {
      problems.push(
        `${name('currencies')}: expected codes of three capital letters such as EUR, got ${bad.map((code) => JSON.stringify(code)).join(', ')}`,
      );
    }
  }
  return problems;
}

/** Every problem with the run options, each naming the option and what it expects. */
export function runOptionProblems(options: LoadRunOptions, labels: OptionLabels = {}): string[] {
  const name = (key: keyof LoadOptions) => labels[key] ?? key;
  const problems: string[] = [];
  if (!(Number.isFinite(options.ratePerSec) && options.ratePerSec > 0)) {
    problems.push(
      `${name('ratePerSec')}: expected operations per second greater than 0, got ${options.ratePerSec}`,
    );
  }
  if (
    options.durationMs !== undefined &&
    !(Number.isFinite(options.durationMs) && options.durationMs > 0)
  ) {
    problems.push(
      `${name('durationMs')}: expected a duration greater than 0, got ${options.durationMs}`,
    );
  }
  positiveInteger(options.operations, name('operations'), problems);
  positiveInteger(options.connections, name('connections'), problems);
  positiveInteger(options.maxTransactionSize, name('maxTransactionSize'), problems);
  if (options.tickMs !== undefined && !(Number.isFinite(options.tickMs) && options.tickMs >= 1)) {
    problems.push(`${name('tickMs')}: expected at least 1 ms, got ${options.tickMs}`);
  }
  return problems;
}

/** Throws a BAD_INPUT TidemarkError listing every problem, if there is one. */
export function assertNoProblems(problems: readonly string[], what: string): void {
  if (problems.length === 0) return;
  const message =
    problems.length === 1
      ? `invalid ${what}: ${problems[0]}`
      : `invalid ${what}:\n  ${problems.join('\n  ')}`;
  throw new TidemarkError('BAD_INPUT', message, { context: { problems } });
}

/** The plan options with defaults filled in; throws BAD_INPUT naming every invalid option. */
export function resolvePlanOptions(
  options: LoadPlanOptions,
  labels: OptionLabels = {},
): ResolvedPlanOptions {
  assertNoProblems(planOptionProblems(options, labels), 'load options');
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as LoadPlanOptions;
  return { ...DEFAULT_PLAN_OPTIONS, seed: 1, ...defined };
}

function positiveInteger(value: number | undefined, label: string, problems: string[]): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    problems.push(`${label}: expected a whole number greater than 0, got ${value}`);
  }
}

function nonNegativeMs(value: number | undefined, label: string, problems: string[]): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    problems.push(`${label}: expected a duration of 0 or more, got ${value}`);
  }
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
