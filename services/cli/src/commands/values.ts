import type { MetricDefinition } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { formatUtcTime, renderTable } from '../table';
import { parseSince } from './dlq';

// `tidemark values`: a metric's values as a table, provisional (what the stream emitted) or
// final (what a consolidation published), refreshed with --watch.

export const VALUES_USAGE = `usage: tidemark values --metric <name> [--since 1h] [--key <value|field=value>] [--final] [--pipeline <name>] [--limit 50] [--watch [2s]] [--json]

  --metric    a metric of the catalogue
  --since     windows ending after this: a duration ago (90s, 15m, 1h, 7d) or a time (default 1h)
  --key       only the values of this key: a key value (EUR) or field=value (currency=EUR)
  --final     the published final values instead of the provisional ones
  --pipeline  the stream pipeline whose provisional values to show (default TIDEMARK_STREAM_PIPELINE)
  --watch     print them again every 2 s (or the interval given) until Ctrl-C`;

export interface ValuesArgs {
  metric: MetricDefinition;
  since: Date;
  /** `--since` as given: a duration is measured again from each refresh of --watch. */
  sinceText: string;
  key?: { field?: string; value: string };
  final: boolean;
  pipeline: string;
  limit: number;
  watchMs?: number;
  json: boolean;
}

const WATCH = /^([1-9]\d*)(s|m)$/;

function badInput(message: string): TidemarkError {
  return new TidemarkError('BAD_INPUT', `${message}\n\n${VALUES_USAGE}`);
}

/** Reads the arguments after `tidemark values`; every problem named at once. */
export function parseValuesArgs(
  argv: readonly string[],
  options: { metrics: readonly MetricDefinition[]; pipeline: string; now: Date },
): ValuesArgs {
  // `--watch` takes an optional interval: read a following interval as its value.
  const args = argv.flatMap((arg, index) =>
    arg === '--watch' && !WATCH.test(argv[index + 1] ?? '') ? ['--watch=2s'] : [arg],
  );
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        metric: { type: 'string' },
        since: { type: 'string', default: '1h' },
        key: { type: 'string' },
        final: { type: 'boolean', default: false },
        pipeline: { type: 'string' },
        limit: { type: 'string', default: '50' },
        watch: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw badInput((error as Error).message);
  }
  const { values } = parsed;
  const problems: string[] = [];
  const metric = options.metrics.find((candidate) => candidate.name === values.metric);
  if (values.metric === undefined) {
    problems.push(
      `--metric: required, one of ${options.metrics.map((known) => known.name).join(', ')}`,
    );
  } else if (metric === undefined) {
    problems.push(
      `--metric: no metric ${JSON.stringify(values.metric)} in the catalogue; expected one of ${options.metrics.map((known) => known.name).join(', ')}`,
    );
  }
  const since = parseSince(values.since, options.now);
  if (since === undefined) {
    problems.push(
      `--since: expected a duration such as 15m or 1h, or a time, got ${JSON.stringify(values.since)}`,
    );
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    problems.push(`--limit: expected a whole number from 1 to 10000, got ${values.limit}`);
  }
  let watchMs: number | undefined;
  if (values.watch !== undefined) {
    const match = WATCH.exec(values.watch);
    if (match) watchMs = Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
    else problems.push(`--watch: expected an interval such as 2s or 1m, got ${values.watch}`);
  }
  let key: ValuesArgs['key'];
  if (values.key !== undefined) {
    const [field, ...rest] = values.key.split('=');
    key = rest.length > 0 ? { field, value: rest.join('=') } : { value: values.key };
    if (metric && key.field !== undefined && !metric.keys.includes(key.field)) {
      problems.push(
        `--key: ${metric.name} is keyed by ${metric.keys.join(', ') || 'nothing'}, not ${key.field}`,
      );
    }
  }
  if (problems.length > 0 || metric === undefined || since === undefined) {
    throw badInput(problems.join('\n'));
  }
  return {
    metric,
    since,
    sinceText: values.since,
    ...(key ? { key } : {}),
    final: values.final,
    pipeline: values.pipeline ?? options.pipeline,
    limit,
    ...(watchMs === undefined ? {} : { watchMs }),
    json: values.json,
  };
}

/** One value of a metric, provisional or final. */
export interface MetricValue {
  windowStart: Date;
  windowEnd: Date;
  /** The key's values by field, e.g. `{ currency: 'EUR' }`. */
  key: Record<string, unknown>;
  value: number | null;
  /** Provisional: emissions so far, whether a newer value waits for emission, open or closed. */
  revision?: number;
  pending?: boolean;
  status?: string;
  /** When the value was emitted (provisional) or published (final). */
  at: Date | null;
}

/** A value's row as the pg driver returns it (decimals as text). */
interface StoredValue {
  window_start: Date;
  window_end: Date;
  key_values: unknown[];
  value: string | null;
  published_at: Date;
  revision: number;
  pending: boolean;
  status: string;
  emitted_at: Date | null;
}

/** The metric's values whose windows end after `since`, newest windows first. */
export async function readValues(warehouse: Knex, args: ValuesArgs): Promise<MetricValue[]> {
  // key_values holds the key's values in the order of the metric's keys.
  const keyFilter = (query: Knex.QueryBuilder) => {
    if (args.key === undefined) return query;
    const { field, value } = args.key;
    return field === undefined
      ? query.whereRaw(
          'EXISTS (SELECT 1 FROM jsonb_array_elements_text(key_values) AS k(value) WHERE k.value = ?)',
          [value],
        )
      : query.whereRaw('key_values ->> ?::integer = ?', [args.metric.keys.indexOf(field), value]);
  };
  const keyOf = (values: unknown[]) =>
    Object.fromEntries(args.metric.keys.map((field, index) => [field, values[index]]));
  if (args.final) {
    const rows = await keyFilter(
      warehouse('final.metric_values')
        .where({ metric: args.metric.name })
        .where('window_end', '>', args.since),
    )
      .orderBy([{ column: 'window_start', order: 'desc' }, 'key_values'])
      .limit(args.limit)
      .select('window_start', 'window_end', 'key_values', 'value', 'published_at');
    return (rows as StoredValue[]).map((row) => ({
      windowStart: new Date(row.window_start),
      windowEnd: new Date(row.window_end),
      key: keyOf(row.key_values),
      value: row.value === null ? null : Number(row.value),
      at: new Date(row.published_at),
    }));
  }
  const rows = await keyFilter(
    warehouse('provisional.metric_values')
      .where({ pipeline: args.pipeline, metric: args.metric.name })
      .where('window_end', '>', args.since)
      .where('revision', '>', 0),
  )
    .orderBy([{ column: 'window_start', order: 'desc' }, 'group_key'])
    .limit(args.limit)
    .select(
      'window_start',
      'window_end',
      'key_values',
      'value',
      'revision',
      'pending',
      'status',
      'emitted_at',
    );
  return (rows as StoredValue[]).map((row) => ({
    windowStart: new Date(row.window_start),
    windowEnd: new Date(row.window_end),
    key: keyOf(row.key_values),
    value: row.value === null ? null : Number(row.value),
    revision: Number(row.revision),
    pending: Boolean(row.pending),
    status: String(row.status),
    at: row.emitted_at === null ? null : new Date(row.emitted_at),
  }));
}

/** The values as a table, with a heading saying which values they are. */
export function renderValues(args: ValuesArgs, values: readonly MetricValue[]): string {
  const kind = args.final ? 'final' : `provisional (pipeline ${args.pipeline})`;
  const heading = `${args.metric.name}: ${kind} values of windows ending after ${formatUtcTime(args.since)} UTC`;
  if (values.length === 0) {
    const hint = args.final
      ? 'no day of these windows is consolidated yet (tidemark consolidate --date <day>)'
      : `none emitted yet: is \`tidemark stream\` running as pipeline ${args.pipeline}?`;
    return `${heading}: ${hint}`;
  }
  const keyText = (key: Record<string, unknown>) =>
    Object.values(key)
      .map((value) => String(value))
      .join(', ') || '-';
  const window = (value: MetricValue) =>
    `${formatUtcTime(value.windowStart)} - ${formatUtcTime(value.windowEnd).slice(11)}`;
  const number = (value: number | null) => (value === null ? '-' : round(value));
  const rows = values.map((value) =>
    args.final
      ? [window(value), keyText(value.key), number(value.value), at(value.at)]
      : [
          window(value),
          keyText(value.key),
          number(value.value),
          value.revision ?? 0,
          `${value.status ?? ''}${value.pending ? ', newer pending' : ''}`,
          at(value.at),
        ],
  );
  const keyHeader = args.metric.keys.join(', ') || 'key';
  const headers = args.final
    ? ['window (UTC)', keyHeader, 'value', 'published']
    : ['window (UTC)', keyHeader, 'value', 'revision', 'window state', 'emitted'];
  return `${heading}\n\n${renderTable(headers, rows)}`;
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;
const at = (time: Date | null) => (time === null ? '-' : formatUtcTime(time));

export interface ValuesDependencies {
  warehouse: Knex;
  metrics: readonly MetricDefinition[];
  pipeline: string;
  print: (line: string) => void;
  /** Clears the terminal before each refresh of --watch; absent when not a terminal. */
  clear?: () => void;
  signal?: AbortSignal;
  now?: () => Date;
  /** Reads the values (default: `readValues` from the warehouse). */
  read?: (warehouse: Knex, args: ValuesArgs) => Promise<MetricValue[]>;
}

/** `tidemark values ...`: once, or every --watch interval until the signal. */
export async function valuesCommand(argv: string[], deps: ValuesDependencies): Promise<number> {
  const now = deps.now ?? (() => new Date());
  const args = parseValuesArgs(argv, {
    metrics: deps.metrics,
    pipeline: deps.pipeline,
    now: now(),
  });
  for (;;) {
    const since = parseSince(args.sinceText, now()) ?? args.since;
    const values = await (deps.read ?? readValues)(deps.warehouse, { ...args, since });
    deps.clear?.();
    deps.print(
      args.json ? JSON.stringify(values, null, 2) : renderValues({ ...args, since }, values),
    );
    if (args.watchMs === undefined || deps.signal?.aborted) return 0;
    try {
      await sleep(args.watchMs, undefined, { signal: deps.signal });
    } catch {
      return 0;
    }
    if (!deps.clear) deps.print('');
  }
}
