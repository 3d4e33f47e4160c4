import {
  assertNoProblems,
  OPERATION_KINDS,
  planOptionProblems,
  runLoad,
  runOptionProblems,
  type LoadOptions,
  type LoadReport,
  type OptionLabels,
} from '@tidemark/loadgen';
import { TidemarkError } from '@tidemark/runtime';
import { parseArgs } from 'node:util';
import { renderTable } from '../table';

/** What `tidemark load` runs: the load options without the signal, which the caller owns. */
export type LoadCommandOptions = Omit<LoadOptions, 'signal'>;

export const LOAD_USAGE = `usage: tidemark load --rate <ops/s> [--duration 60s | --operations N] [options]

  --rate 5000            operations per second (required)
  --duration 60s         how long to run: 500ms, 30s, 15m, 1h (default 60s unless --operations)
  --operations N         stop after N operations
  --updates 0.1          share of operations updating an order (status, amount, event time)
  --deletes 0.02         share deleting an order (and its payments)
  --duplicates 0.01      share re-running the same UPDATE (a client retry)
  --pk-changes 0.005     share changing an order's primary key (orders without payments)
  --payments 0.3         share inserting a payment for an order
  --poison 0             share of rows that break the contract (they belong in the DLQ)
                         (the shares add up to at most 1; the rest are new orders)
  --late 0               share of inserted rows with created_at = now - --late-by
  --late-by 15m          how late the late rows are
  --out-of-order 0       share of inserted rows with created_at up to --out-of-order-max ago
  --out-of-order-max 3s
  --currencies EUR,USD,GBP
  --customers 500        distinct customers
  --customer-prefix customer
  --seed N               reproduce a run's choices (printed at the start)
  --connections 4        concurrent connections writing`;

// How each option is spelled on the command line, so problems name the flag the user typed.
const FLAGS = {
  ratePerSec: '--rate',
  durationMs: '--duration',
  operations: '--operations',
  updates: '--updates',
  deletes: '--deletes',
  duplicates: '--duplicates',
  pkChanges: '--pk-changes',
  payments: '--payments',
  poison: '--poison',
  late: '--late',
  lateByMs: '--late-by',
  outOfOrder: '--out-of-order',
  outOfOrderMaxMs: '--out-of-order-max',
  currencies: '--currencies',
  customers: '--customers',
  customerPrefix: '--customer-prefix',
  seed: '--seed',
  connections: '--connections',
} as const satisfies OptionLabels;

const SHARE_FLAGS = {
  updates: 'updates',
  deletes: 'deletes',
  duplicates: 'duplicates',
  pkChanges: 'pk-changes',
  payments: 'payments',
  poison: 'poison',
  late: 'late',
  outOfOrder: 'out-of-order',
} as const;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Parses the arguments after `tidemark load`; throws a BAD_INPUT TidemarkError naming the option. */
export function parseLoadArgs(argv: string[]): LoadCommandOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        rate: { type: 'string' },
        duration: { type: 'string' },
        operations: { type: 'string' },
        updates: { type: 'string' },
        deletes: { type: 'string' },
        duplicates: { type: 'string' },
        'pk-changes': { type: 'string' },
        payments: { type: 'string' },
        poison: { type: 'string' },
        late: { type: 'string' },
        'late-by': { type: 'string' },
        'out-of-order': { type: 'string' },
        'out-of-order-max': { type: 'string' },
        currencies: { type: 'string' },
        customers: { type: 'string' },
        'customer-prefix': { type: 'string' },
        seed: { type: 'string' },
        connections: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new TidemarkError('BAD_INPUT', `${(error as Error).message}\n\n${LOAD_USAGE}`, {
      cause: error,
    });
  }
  const problems: string[] = [];
  const number = (flag: string, text: string | undefined, integer = false) => {
    if (text === undefined) return undefined;
    if (!NUMBER.test(text)) {
      problems.push(`--${flag}: expected a number, got ${JSON.stringify(text)}`);
      return undefined;
    }
    const value = Number(text);
    if (integer && !Number.isInteger(value)) {
      problems.push(`--${flag}: expected a whole number, got ${JSON.stringify(text)}`);
      return undefined;
    }
    return value;
  };
  const duration = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const match = DURATION.exec(text);
    if (!match) {
      problems.push(
        `--${flag}: expected a duration such as 500ms, 30s, 15m or 1h, got ${JSON.stringify(text)}`,
      );
      return undefined;
    }
    return Number(match[1]) * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
  };

  if (values.rate === undefined) {
    problems.push('--rate: required, the operations per second to write, e.g. --rate 5000');
  }
  const options: LoadCommandOptions = {
    ratePerSec: number('rate', values.rate) ?? Number.NaN,
    durationMs: duration('duration', values.duration),
    operations: number('operations', values.operations, true),
    lateByMs: duration('late-by', values['late-by']),
    outOfOrderMaxMs: duration('out-of-order-max', values['out-of-order-max']),
    customers: number('customers', values.customers, true),
    customerPrefix: values['customer-prefix'],
    seed: number('seed', values.seed, true),
    connections: number('connections', values.connections, true),
    currencies: values.currencies
      ?.split(',')
      .map((code) => code.trim())
      .filter((code) => code.length > 0),
    recordIds: false,
  };
  for (const [key, flag] of Object.entries(SHARE_FLAGS)) {
    options[key as keyof typeof SHARE_FLAGS] = number(flag, values[flag]);
  }
  // Problems of form come first; checking ranges of values that did not parse would repeat them.
  if (problems.length === 0) {
    problems.push(...runOptionProblems(options, FLAGS), ...planOptionProblems(options, FLAGS));
  }
  assertNoProblems(problems, 'load arguments');
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as LoadCommandOptions;
}

/** The summary printed when a load ends: operations per kind, then what the stream should see. */
export function renderLoadReport(report: LoadReport): string {
  const seconds = (report.endedAt.getTime() - report.startedAt.getTime()) / 1000;
  const share = (count: number) =>
    (report.operations > 0 ? `${((count / report.operations) * 100).toFixed(1)}%` : '-').padStart(
      6,
    );
  const table = renderTable(
    ['operation', 'count', 'share'],
    [
      ...OPERATION_KINDS.map((kind) => [kind, report.byKind[kind], share(report.byKind[kind])]),
      ['total', report.operations, share(report.operations)],
    ],
  );
  return [
    table,
    '',
    `rows changed ${report.changes}; poison rows ${report.poison}, late rows ${report.late}, out-of-order rows ${report.outOfOrder}`,
    `achieved ${report.achievedRatePerSec}/s of ${report.targetRatePerSec}/s over ${seconds.toFixed(1)} s (stopped by ${report.stoppedBy}, seed ${report.seed})`,
  ].join('\n');
}

/**
 * `tidemark load ...`: writes traffic into the source database, printing progress every second
 * and a summary at the end (also when `signal` stops it early).
 */
export async function loadCommand(
  argv: string[],
  dependencies: {
    source: Parameters<typeof runLoad>[0];
    print: (line: string) => void;
    signal?: AbortSignal;
  },
): Promise<LoadReport> {
  const options = parseLoadArgs(argv);
  const { print } = dependencies;
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const limits = [
    options.durationMs !== undefined ? `${options.durationMs / 1000} s` : undefined,
    options.operations !== undefined ? `${options.operations} operations` : undefined,
  ].filter((limit) => limit !== undefined);
  const until = `for ${limits.length > 0 ? limits.join(' or ') : '60 s'}`;
  print(`load: ${options.ratePerSec}/s ${until} into shop.orders and shop.payments (seed ${seed})`);
  const report = await runLoad(
    dependencies.source,
    { ...options, seed, signal: dependencies.signal },
    {
      onProgress: (progress) =>
        print(
          `${String(Math.round(progress.elapsedMs / 1000)).padStart(4)}s  ${String(progress.operations).padStart(9)} ops  ${String(progress.ratePerSec).padStart(6)}/s  backlog ${progress.backlog}`,
        ),
    },
    FLAGS,
  );
  print('');
  print(renderLoadReport(report));
  return report;
}
