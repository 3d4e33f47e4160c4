import { TidemarkError } from '@tidemark/runtime';
import {
  consumerGroupMembers,
  listStreamGaps,
  pipelineStateCounts,
  resetPipeline,
  type RecordedGap,
} from '@tidemark/stream';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { parseArgs } from 'node:util';
import { formatUtcTime, renderTable } from '../table';
import { pipelineNameProblem } from './pipeline-name';

export const STREAM_USAGE = `usage: tidemark stream
       tidemark stream gaps [--pipeline <name>] [--limit 100] [--json]
       tidemark stream reset [--pipeline <name>] [--yes]

(none)   run the stream pipeline until Ctrl-C or SIGTERM
gaps     the offsets Kafka deleted before a pipeline read them (ops.stream_gaps), newest first
  --pipeline NAME        only this pipeline's gaps (default: every pipeline's)
  --limit 100            at most this many gaps (1 to 10000)
  --json                 print JSON instead of a table
reset    forget everything a pipeline derived and where it was (warehouse and consumer group), so
         it starts afresh from TIDEMARK_STREAM_START_AT; the raw changelog and dead letters stay.
         The pipeline must be stopped.
  --pipeline NAME        the pipeline (default: TIDEMARK_STREAM_PIPELINE)
  --yes                  do it; without it, say what would be forgotten and change nothing`;

/** `tidemark stream gaps|reset` with its options read (`tidemark stream` alone runs it). */
export type StreamArgs =
  | { action: 'gaps'; pipeline?: string; limit: number; json: boolean }
  | { action: 'reset'; pipeline: string; yes: boolean };

export interface StreamAdminDependencies {
  warehouse: Knex;
  kafka: Kafka;
  print: (line: string) => void;
}

const MAX_LIMIT = 10_000;
const WHOLE = /^[1-9]\d*$/;

const GAPS_OPTIONS = {
  pipeline: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const;
const RESET_OPTIONS = { pipeline: { type: 'string' }, yes: { type: 'boolean' } } as const;

/** A BAD_INPUT error for `stream <action>`, or for `stream` itself without one. */
function badInput(message: string, action?: string, cause?: unknown): TidemarkError {
  const where = action ? `${action}: ` : '';
  return new TidemarkError('BAD_INPUT', `${where}${message}\n\n${STREAM_USAGE}`, { cause });
}

/** Parses the arguments after `tidemark stream`; throws a BAD_INPUT TidemarkError naming the problem. */
export function parseStreamArgs(argv: readonly string[], defaultPipeline: string): StreamArgs {
  const [action, ...rest] = argv;
  if (action !== 'gaps' && action !== 'reset') {
    throw badInput(
      `unknown subcommand ${JSON.stringify(action ?? '')}, expected "gaps" or "reset"`,
    );
  }
  let values: { pipeline?: string; limit?: string; json?: boolean; yes?: boolean };
  try {
    const args = [...rest];
    const common = { args, strict: true, allowPositionals: false } as const;
    values =
      action === 'gaps'
        ? parseArgs({ ...common, options: GAPS_OPTIONS }).values
        : parseArgs({ ...common, options: RESET_OPTIONS }).values;
  } catch (error) {
    throw badInput((error as Error).message, action, error);
  }
  const pipelineProblem = pipelineNameProblem(values.pipeline);
  if (pipelineProblem) throw badInput(pipelineProblem, action);
  if (action === 'reset') {
    return { action, pipeline: values.pipeline ?? defaultPipeline, yes: values.yes === true };
  }
  let limit = 100;
  if (values.limit !== undefined) {
    limit = WHOLE.test(values.limit) ? Number(values.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      throw badInput(
        `--limit: expected a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(values.limit)}`,
        action,
      );
    }
  }
  return values.pipeline === undefined
    ? { action, limit, json: values.json === true }
    : { action, pipeline: values.pipeline, limit, json: values.json === true };
}

function formatTime(time: Date | null): string {
  return time ? formatUtcTime(time) : '-';
}

/** The gaps as a table, with what they mean and how to make the numbers whole again. */
export function renderGaps(gaps: readonly RecordedGap[]): string[] {
  if (gaps.length === 0) return ['no gaps recorded'];
  const missing = gaps.reduce((sum, gap) => sum + (gap.missingUntil - gap.missingFrom), 0n);
  const table = renderTable(
    ['id', 'pipeline', 'partition', 'missing', 'offsets', 'event time reached', 'detected'],
    gaps.map((gap) => [
      gap.id,
      gap.pipeline,
      `${gap.topic}/${gap.partition}`,
      Number(gap.missingUntil - gap.missingFrom),
      `${gap.missingFrom}..${gap.missingUntil - 1n}`,
      formatTime(gap.reachedEventTime),
      formatTime(gap.detectedAt),
    ]),
  );
  // The earliest event time reached; none when a gap opened before its partition had any.
  const reached = gaps.some((gap) => gap.reachedEventTime === null)
    ? undefined
    : gaps.map((gap) => gap.reachedEventTime as Date).sort((a, b) => a.getTime() - b.getTime())[0];
  return [
    table,
    '',
    `${gaps.length} gap(s), ${missing} change(s) never read: they are not in the provisional ` +
      'values of the pipelines above, nor in raw.change_events unless another pipeline landed them.',
    `They were written after ${reached ? formatTime(reached) : 'the partition began'}. To capture ` +
      'the rows as they are now, snapshot the connector again (docs/troubleshooting.md): the ' +
      'stream reads each snapshot of a row it knows as an update.',
  ];
}

function gapJson(gap: RecordedGap) {
  return {
    ...gap,
    missingFrom: gap.missingFrom.toString(),
    missingUntil: gap.missingUntil.toString(),
    missing: Number(gap.missingUntil - gap.missingFrom),
  };
}

/** `tidemark stream gaps|reset`: exit 0 done, 1 refused (a running pipeline). */
export async function streamAdminCommand(
  args: StreamArgs,
  deps: StreamAdminDependencies,
): Promise<number> {
  const { warehouse, kafka, print } = deps;
  if (args.action === 'gaps') {
    const gaps = await listStreamGaps(warehouse, args);
    if (args.json) print(JSON.stringify(gaps.map(gapJson), null, 2));
    else for (const line of renderGaps(gaps)) print(line);
    return 0;
  }
  const members = await consumerGroupMembers(kafka, args.pipeline);
  if (members > 0) {
    print(
      `stream reset: pipeline ${args.pipeline} is running (${members} member(s) in its consumer ` +
        'group); stop it first. A consumer killed without leaving stays a member until its ' +
        'session times out (TIDEMARK_STREAM_SESSION_TIMEOUT_MS).',
    );
    return 1;
  }
  const counts = (await pipelineStateCounts(warehouse, args.pipeline)).filter((c) => c.rows > 0);
  const total = counts.reduce((sum, count) => sum + count.rows, 0);
  if (total === 0) {
    print(`stream reset: pipeline ${args.pipeline} holds nothing in the warehouse`);
  } else {
    print(`pipeline ${args.pipeline} holds:`);
    print(
      renderTable(
        ['table', 'rows'],
        counts.map((count) => [count.table, count.rows]),
      ),
    );
  }
  if (!args.yes) {
    print('nothing changed: pass --yes to forget it and start the pipeline afresh');
    return 0;
  }
  await resetPipeline(warehouse, kafka, args.pipeline);
  print(
    `reset pipeline ${args.pipeline}: it starts afresh from its start position on its next run`,
  );
  return 0;
}
