import {
  currentContract,
  DEAD_LETTER_CODES,
  decodeChange,
  type ContractOf,
  type DecodeErrorCode,
} from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import {
  describeReplayFailure,
  eventTimesOf,
  implausibleTime,
  listDeadLetters,
  replayDeadLetters,
  type PlausibleTimes,
  type DeadLetterEntry,
  type DeadLetterSource,
  type ReplayReport,
} from '@tidemark/stream';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { parseArgs } from 'node:util';
import { formatUtcTime, renderTable } from '../table';

export const DLQ_USAGE = `usage: tidemark dlq list [--since <time>] [--code <code>] [--table <schema.table>] [--limit 50] [--all] [--json]
       tidemark dlq replay [--since <time>] [--id <id>]... [--dry-run] [--json]

list     the dead letters not replayed yet, newest first
  --since 1h             received since: a duration ago (30s, 15m, 1h, 7d) or an ISO time
                         (2026-11-22T10:00:00Z; UTC unless it carries an offset)
  --code CODE            only this error: ${DEAD_LETTER_CODES.join(', ')}
  --table shop.orders    only the dead letters of this source table
  --limit 50             at most this many rows (1 to 10000)
  --all                  also the dead letters already replayed
  --json                 print JSON instead of a table

replay   re-validate dead letters against the current contracts and re-inject, once, those that
         now pass onto their original change topic; the others count a failed attempt
  --since 1h             only dead letters received since then
  --id 42                only this dead letter (repeat for more, or --id 42,43)
  --dry-run              say what would happen; produce nothing, change nothing
  --json                 print the report as JSON`;

/** `tidemark dlq list` with its options read. */
export interface DlqListArgs {
  action: 'list';
  since?: Date;
  code?: DecodeErrorCode;
  table?: string;
  limit: number;
  includeReplayed: boolean;
  json: boolean;
}

/** `tidemark dlq replay` with its options read. */
export interface DlqReplayArgs {
  action: 'replay';
  since?: Date;
  ids?: number[];
  dryRun: boolean;
  json: boolean;
}

export type DlqArgs = DlqListArgs | DlqReplayArgs;

export interface DlqDependencies {
  warehouse: Knex;
  kafka: Kafka;
  print: (line: string) => void;
  now?: () => Date;
  /** The table each change topic carries: replay checks a dead letter as its pipeline would. */
  tableOfTopic?: ReadonlyMap<string, string>;
  /** The span a change's times must fall in: an implausible dead letter is not re-injected. */
  plausibleTimes?: PlausibleTimes;
  /** The contract versions replay checks against (default: the newest registered ones). */
  contractOf?: ContractOf;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 10_000;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const DURATION_UNIT_MS = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const ID = /^[1-9]\d*$/;
const TABLE = /^[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*$/;

const LIST_OPTIONS = {
  since: { type: 'string' },
  code: { type: 'string' },
  table: { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

const REPLAY_OPTIONS = {
  since: { type: 'string' },
  id: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

function badInput(message: string, cause?: unknown): TidemarkError {
  return new TidemarkError('BAD_INPUT', `${message}\n\n${DLQ_USAGE}`, { cause });
}

/**
 * A `--since` value as a time: a duration ago from `now` (`90s`, `15m`, `1h`, `7d`) or an ISO
 * time, read as UTC when it has no offset. Undefined when it is neither.
 */
export function parseSince(text: string, now: Date): Date | undefined {
  const duration = DURATION.exec(text);
  if (duration) {
    const unit = DURATION_UNIT_MS[duration[2] as keyof typeof DURATION_UNIT_MS];
    return new Date(now.getTime() - Number(duration[1]) * unit);
  }
  const iso = ISO_TIME.exec(text);
  if (!iso) return undefined;
  const dateOnly = !text.includes(':');
  const withZone = iso[1] || dateOnly ? text : `${text}Z`;
  const time = Date.parse(withZone.replace(' ', 'T'));
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** Parses the arguments after `tidemark dlq`; throws a BAD_INPUT TidemarkError naming the option. */
export function parseDlqArgs(argv: readonly string[], now: Date = new Date()): DlqArgs {
  const [action, ...rest] = argv;
  if (action !== 'list' && action !== 'replay') {
    throw badInput(
      action === undefined
        ? 'expected a subcommand, "list" or "replay"'
        : `unknown subcommand ${JSON.stringify(action)}, expected "list" or "replay"`,
    );
  }
  const problems: string[] = [];
  const since = (text: string | undefined) => {
    if (text === undefined) return undefined;
    const time = parseSince(text, now);
    if (!time) {
      problems.push(
        `--since: expected a duration such as 30m, 1h or 7d, or an ISO time such as 2026-11-22T10:00:00Z, got ${JSON.stringify(text)}`,
      );
    }
    return time;
  };

  if (action === 'list') {
    const values = parseOptions(action, rest, LIST_OPTIONS);
    const code = values.code?.toUpperCase();
    if (code !== undefined && !(DEAD_LETTER_CODES as readonly string[]).includes(code)) {
      problems.push(
        `--code: expected one of ${DEAD_LETTER_CODES.join(', ')}, got ${JSON.stringify(values.code)}`,
      );
    }
    if (values.table !== undefined && !TABLE.test(values.table)) {
      problems.push(
        `--table: expected a source table as schema.table, e.g. shop.orders, got ${JSON.stringify(values.table)}`,
      );
    }
    let limit = DEFAULT_LIMIT;
    if (values.limit !== undefined) {
      limit = ID.test(values.limit) ? Number(values.limit) : Number.NaN;
      if (!(limit >= 1 && limit <= MAX_LIMIT)) {
        problems.push(
          `--limit: expected a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(values.limit)}`,
        );
      }
    }
    const args: DlqListArgs = {
      action,
      since: since(values.since),
      code: code as DecodeErrorCode | undefined,
      table: values.table,
      limit,
      includeReplayed: values.all,
      json: values.json,
    };
    assertNoProblems(action, problems);
    return withoutUndefined(args);
  }

  const values = parseOptions(action, rest, REPLAY_OPTIONS);
  let ids: number[] | undefined;
  if (values.id !== undefined) {
    ids = [];
    for (const text of values.id.flatMap((each) => each.split(','))) {
      const id = text.trim();
      if (ID.test(id) && Number.isSafeInteger(Number(id))) ids.push(Number(id));
      else
        problems.push(
          `--id: expected a dead letter's id, a whole number, got ${JSON.stringify(text)}`,
        );
    }
  }
  const args: DlqReplayArgs = {
    action,
    since: since(values.since),
    ids: ids && [...new Set(ids)],
    dryRun: values['dry-run'],
    json: values.json,
  };
  assertNoProblems(action, problems);
  return withoutUndefined(args);
}

function parseOptions<Options extends typeof LIST_OPTIONS | typeof REPLAY_OPTIONS>(
  action: string,
  args: readonly string[],
  options: Options,
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw badInput(`${action}: ${(error as Error).message}`, error);
  }
}

function assertNoProblems(action: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw new TidemarkError(
    'BAD_INPUT',
    problems.length === 1 ? `${action}: ${problems[0]}` : `${action}:\n  ${problems.join('\n  ')}`,
    { context: { problems } },
  );
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function formatSource(source: DeadLetterSource | undefined): string {
  return source ? `${source.topic}/${source.partition}/${source.offset}` : '-';
}

function shorten(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length <= length ? line : `${line.slice(0, length - 3)}...`;
}

/** The dead letters as a table, newest first, with a line saying how many and what is left out. */
export function renderDeadLetters(entries: readonly DeadLetterEntry[], args: DlqListArgs): string {
  const scope = args.includeReplayed ? 'replayed or not' : 'not replayed yet';
  if (entries.length === 0) return `no dead letters (${scope})`;
  const table = renderTable(
    ['id', 'received', 'topic/partition/offset', 'code', 'path', 'message', 'replayed'],
    entries.map((entry) => [
      entry.id,
      formatUtcTime(entry.receivedAt),
      `${entry.topic}/${entry.partition}/${entry.offset}`,
      entry.code,
      entry.issues.length > 1 ? `${entry.path} (+${entry.issues.length - 1})` : entry.path,
      shorten(entry.message, 60),
      entry.replayedAt
        ? formatUtcTime(entry.replayedAt)
        : entry.replayAttempts > 0
          ? `no (${entry.replayAttempts} attempt${entry.replayAttempts === 1 ? '' : 's'})`
          : 'no',
    ]),
  );
  const more = entries.length === args.limit ? `; --limit ${args.limit} reached` : '';
  return `${table}\n\n${entries.length} dead letter${entries.length === 1 ? '' : 's'} (${scope}), newest first${more}`;
}

/** What a replay did, one row per dead letter it looked at, then the counts. */
export function renderReplayReport(report: ReplayReport): string {
  const rows: (string | number)[][] = [
    ...report.replayed.map((entry) => [
      entry.id,
      formatSource(entry.source),
      report.dryRun ? 'would replay' : 'replayed',
      `-> ${entry.topic}/${entry.partition}${entry.key === null ? ' (no key)' : ` key ${entry.key}`}`,
    ]),
    ...report.stillFailing.map((entry) => [
      entry.id,
      formatSource(entry.source),
      'still failing',
      shorten(describeReplayFailure(entry), 100),
    ]),
    ...report.failed.map((entry) => [
      entry.id,
      formatSource(entry.source),
      'not produced',
      shorten(entry.error, 100),
    ]),
    ...report.skipped.map((entry) => [
      entry.id,
      formatSource(entry.source),
      'skipped',
      `${entry.reason.replaceAll('_', ' ')}: ${entry.detail}`,
    ]),
  ];
  const summary = [
    `${report.dryRun ? 'would replay' : 'replayed'} ${report.replayed.length}`,
    `still failing ${report.stillFailing.length}`,
    ...(report.failed.length > 0 ? [`not produced ${report.failed.length} (run again)`] : []),
    `skipped ${report.skipped.length}`,
  ].join(', ');
  const head = `${report.considered} dead letter${report.considered === 1 ? '' : 's'} considered${
    report.dryRun ? ' (dry run: nothing produced, nothing marked)' : ''
  }`;
  if (rows.length === 0) return `${head}: nothing to replay`;
  return [head, '', renderTable(['id', 'source', 'outcome', 'detail'], rows), '', summary].join(
    '\n',
  );
}

/**
 * `tidemark dlq list|replay ...`: lists the dead letters, or replays those that now pass the
 * current contracts. Returns the exit code: 1 when a replay could not produce some of them.
 */
export async function dlqCommand(argv: string[], dependencies: DlqDependencies): Promise<number> {
  const { warehouse, kafka, print } = dependencies;
  const args = parseDlqArgs(argv, dependencies.now?.() ?? new Date());
  if (args.action === 'list') {
    const entries = await listDeadLetters(warehouse, {
      since: args.since,
      code: args.code,
      table: args.table,
      limit: args.limit,
      includeReplayed: args.includeReplayed,
    });
    print(args.json ? JSON.stringify(entries, null, 2) : renderDeadLetters(entries, args));
    return 0;
  }

  // Re-injecting onto a topic that no longer exists must fail, not create it.
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  if (!args.dryRun) await producer.connect();
  try {
    const { tableOfTopic, plausibleTimes } = dependencies;
    const contractOf = dependencies.contractOf ?? currentContract;
    const report = await replayDeadLetters({
      warehouse,
      producer,
      // As the pipeline reading the dead letter's topic would: its table, its plausibility.
      decode: (raw, topic) => decodeChange(raw, contractOf, { table: tableOfTopic?.get(topic) }),
      keyFields: (table) => contractOf(table)?.primaryKey,
      implausible: plausibleTimes
        ? (event, topic) => {
            const table = tableOfTopic?.get(topic);
            const contract = table === undefined ? undefined : contractOf(table);
            const nowMs = Date.now();
            const eventTimes = eventTimesOf(event, contract);
            const field = contract?.eventTimeField;
            return implausibleTime(event, field, eventTimes, nowMs, plausibleTimes, nowMs);
          }
        : undefined,
      filter: { since: args.since, ids: args.ids },
      dryRun: args.dryRun,
    });
    print(args.json ? JSON.stringify(report, null, 2) : renderReplayReport(report));
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    if (!args.dryRun) await producer.disconnect();
  }
}
