import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { METRICS } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import {
  BackfillInputError,
  backfillProgressQuery,
  backfillWorkflow,
  cancelBackfillSignal,
  finishedDays,
  pauseBackfillSignal,
  progressBar,
  resumeBackfillSignal,
  validateBackfillRequest,
  type BackfillReport,
} from '@tidemark/workflows';
import { parseArgs } from 'node:util';
import { renderTable } from '../table';
import { hasWorker, noWorkerHint } from './temporal-workers';
import { pipelineNameProblem } from './pipeline-name';

export const BACKFILL_USAGE = `usage: tidemark backfill --metric <name|all> --from <yyyy-mm-dd> --to <yyyy-mm-dd> [options]
       tidemark backfill status|pause|resume|cancel <id> [--json]
       tidemark backfill list

Recomputes and republishes the final values of every day from --from to --to (UTC, inclusive),
one child workflow per day, reading the raw changelog as of the backfill's start. Every
published value that changes is recorded with its previous value, the run and the reason.
A Temporal worker must run (\`tidemark worker\`).

  --metric NAME          a metric (repeat for more), or "all"; known: ${METRICS.map((metric) => metric.name).join(', ')}
  --from DAY --to DAY    the range, e.g. --from 2026-01-01 --to 2026-03-31
  --concurrency 4        days consolidated at once (1 to 64)
  --reason TEXT          why (kept with every changed value)
  --id ID                the backfill's id (default: backfill-<metric>-<from>-<to>; one runs at a time per id)
  --pipeline NAME        the stream pipeline its days reconcile against (default: TIDEMARK_STREAM_PIPELINE)
  --detach               start it and return; follow it with \`tidemark backfill status <id>\`
  --json                 print the final (or current) report as JSON

status <id>              the backfill's progress: days done, failed, running
pause <id>               start no new day (days running finish); resume <id> goes on
cancel <id>              start no new day and cancel the days running; published days stay
list                     recent backfills and their state`;

export type BackfillArgs =
  | {
      action: 'start';
      metrics: string[];
      from: string;
      to: string;
      concurrency: number;
      reason?: string;
      id: string;
      pipeline?: string;
      detach: boolean;
      json: boolean;
    }
  | { action: 'status' | 'pause' | 'resume' | 'cancel'; id: string; json: boolean }
  | { action: 'list'; json: boolean };

const START_OPTIONS = {
  metric: { type: 'string', multiple: true },
  from: { type: 'string' },
  to: { type: 'string' },
  concurrency: { type: 'string' },
  reason: { type: 'string' },
  pipeline: { type: 'string' },
  id: { type: 'string' },
  detach: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

const ID = /^[A-Za-z0-9._:/-]+$/;

function badInput(message: string): TidemarkError {
  return new TidemarkError('BAD_INPUT', `${message}\n\n${BACKFILL_USAGE}`);
}

/** Parses the arguments after `tidemark backfill`; throws a BAD_INPUT error naming the option. */
export function parseBackfillArgs(
  argv: readonly string[],
  metricNames: readonly string[] = METRICS.map((metric) => metric.name),
): BackfillArgs {
  const [first, ...rest] = argv;
  if (first === 'list') return { action: 'list', json: rest.includes('--json') };
  if (first === 'status' || first === 'pause' || first === 'resume' || first === 'cancel') {
    const positional = rest.filter((arg) => arg !== '--json');
    const [id, ...extra] = positional;
    if (id === undefined || id.startsWith('-') || extra.length > 0) {
      throw badInput(`${first}: expected one backfill id, got ${JSON.stringify(positional)}`);
    }
    return { action: first, id, json: rest.includes('--json') };
  }
  let values;
  try {
    values = parseArgs({ args: [...argv], options: START_OPTIONS, strict: true }).values;
  } catch (error) {
    throw badInput((error as Error).message);
  }
  const problems: string[] = [];
  const metrics = (values.metric ?? []).flatMap((each) => each.split(',')).map((m) => m.trim());
  if (metrics.length === 0) problems.push('--metric: required, a metric name or "all"');
  const all = metrics.includes('all');
  if (all && metrics.length > 1) problems.push('--metric: "all" cannot be combined with names');
  for (const name of metrics.filter((m) => m !== 'all' && !metricNames.includes(m))) {
    problems.push(`--metric: unknown metric "${name}" (known: ${metricNames.join(', ')})`);
  }
  if (values.from === undefined) problems.push('--from: required, the first day (yyyy-mm-dd)');
  if (values.to === undefined) problems.push('--to: required, the last day (yyyy-mm-dd)');
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (values.id !== undefined && !ID.test(values.id)) {
    problems.push(`--id: letters, digits and . _ : / - only, got ${JSON.stringify(values.id)}`);
  }
  if (problems.length === 0) {
    try {
      validateBackfillRequest({ from: values.from!, to: values.to!, concurrency });
    } catch (error) {
      if (!(error instanceof BackfillInputError)) throw error;
      problems.push(`--${error.message}`);
    }
  }
  const pipelineProblem = pipelineNameProblem(values.pipeline);
  if (pipelineProblem) problems.push(pipelineProblem);
  if (problems.length > 0) throw badInput(`invalid arguments:\n  ${problems.join('\n  ')}`);
  const selected = all ? [] : [...new Set(metrics)];
  return {
    action: 'start',
    metrics: selected,
    from: values.from!,
    to: values.to!,
    concurrency,
    reason: values.reason,
    id:
      values.id ??
      `backfill-${selected.length === 0 ? 'all' : selected.join('+')}-${values.from}-${values.to}`,
    ...(values.pipeline === undefined ? {} : { pipeline: values.pipeline }),
    detach: values.detach,
    json: values.json,
  };
}

export interface BackfillCommandDeps {
  client: Client;
  /** The pipeline when --pipeline is not given (the configured one). */
  defaultPipeline?: string;
  taskQueue: string;
  print: (line: string) => void;
  /** Rewrites the current terminal line (a live progress bar); absent when not a terminal. */
  rewrite?: (line: string) => void;
  pollMs?: number;
}

/** Runs `tidemark backfill ...`; exit code 0, or 1 when days failed or the backfill was cancelled. */
export async function backfillCommand(argv: string[], deps: BackfillCommandDeps): Promise<number> {
  const args = parseBackfillArgs(argv);
  const { client, print } = deps;
  switch (args.action) {
    case 'list':
      return listBackfills(client, print, args.json);
    case 'status': {
      const report = await currentReport(client, args.id);
      printReport(report, print, args.json);
      return 0;
    }
    case 'pause':
    case 'resume':
    case 'cancel': {
      const signal = {
        pause: pauseBackfillSignal,
        resume: resumeBackfillSignal,
        cancel: cancelBackfillSignal,
      }[args.action];
      const handle = client.workflow.getHandle(args.id);
      await handle.signal(signal);
      print(`${args.action} sent to ${args.id}`);
      if (await hasWorker(client, deps.taskQueue)) {
        printReport(await handle.query(backfillProgressQuery), print, args.json);
      }
      return 0;
    }
    case 'start':
      return startBackfill(args, deps);
  }
}

async function startBackfill(
  args: Extract<BackfillArgs, { action: 'start' }>,
  deps: BackfillCommandDeps,
): Promise<number> {
  const { client, print } = deps;
  let handle;
  try {
    const pipeline = args.pipeline ?? deps.defaultPipeline;
    handle = await client.workflow.start(backfillWorkflow, {
      workflowId: args.id,
      taskQueue: deps.taskQueue,
      args: [
        {
          from: args.from,
          to: args.to,
          metrics: args.metrics,
          concurrency: args.concurrency,
          reason: args.reason,
          ...(pipeline === undefined ? {} : { pipeline }),
        },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new TidemarkError(
        'BAD_INPUT',
        `backfill ${args.id} is already running: follow it with \`tidemark backfill status ${args.id}\`, or give another --id`,
      );
    }
    throw error;
  }
  print(
    `backfill ${args.id}: ${args.metrics.length === 0 ? 'every metric' : args.metrics.join(', ')}, ${args.from} .. ${args.to}, ${args.concurrency} at once`,
  );
  if (!(await hasWorker(client, deps.taskQueue))) {
    print(noWorkerHint(deps.taskQueue));
    print(`it starts once a worker polls; follow it with \`tidemark backfill status ${args.id}\``);
    return 0;
  }
  if (args.detach) {
    print(`started; follow it with \`tidemark backfill status ${args.id}\``);
    return 0;
  }
  const result = handle.result();
  let finished = false;
  void result.then(
    () => (finished = true),
    () => (finished = true),
  );
  let shown = -1;
  while (!finished) {
    const report = await handle.query(backfillProgressQuery).catch(() => undefined);
    if (report) {
      const line = progressBar(report);
      if (deps.rewrite) deps.rewrite(line);
      else if (finishedDays(report) !== shown) print(line);
      shown = finishedDays(report);
    }
    await Promise.race([result.catch(() => undefined), wait(deps.pollMs ?? 500)]);
  }
  const report = await result;
  if (deps.rewrite) deps.rewrite(progressBar(report));
  if (deps.rewrite) print('');
  printReport(report, print, args.json);
  return report.failed.length > 0 || report.status === 'cancelled' ? 1 : 0;
}

/** The backfill's report: its result once closed, else what its progress query says. */
async function currentReport(client: Client, id: string): Promise<BackfillReport> {
  const handle = client.workflow.getHandle(id);
  const description = await handle.describe();
  if (description.status.name === 'COMPLETED') return (await handle.result()) as BackfillReport;
  if (description.status.name !== 'RUNNING') {
    throw new TidemarkError(
      'BAD_INPUT',
      `backfill ${id} ended ${description.status.name.toLowerCase()} (see the Temporal UI); its published days stay`,
    );
  }
  return handle.query(backfillProgressQuery);
}

function printReport(report: BackfillReport, print: (line: string) => void, json: boolean): void {
  if (json) {
    print(JSON.stringify(report, null, 2));
    return;
  }
  print(progressBar(report));
  print(
    `${report.succeeded} ${report.succeeded === 1 ? 'day' : 'days'} published (${report.published} values, ${report.changed} changed), ${report.failed.length} failed; as of ${report.asOf}; reason: ${report.reason}`,
  );
  if (report.running.length > 0) print(`running: ${report.running.join(', ')}`);
  if (report.failed.length > 0) {
    print(
      renderTable(
        ['failed day', 'type', 'message'],
        report.failed.map((failure) => [failure.day, failure.type, failure.message]),
      ),
    );
  }
}

async function listBackfills(
  client: Client,
  print: (line: string) => void,
  json: boolean,
): Promise<number> {
  const rows: { id: string; status: string; started: string; closed: string }[] = [];
  for await (const execution of client.workflow.list({
    query: `WorkflowType = 'backfillWorkflow'`,
  })) {
    // A backfill that continued as new lists once per run: keep the latest.
    if (rows.some((row) => row.id === execution.workflowId)) continue;
    rows.push({
      id: execution.workflowId,
      status: execution.status.name.toLowerCase(),
      started: execution.startTime.toISOString(),
      closed: execution.closeTime?.toISOString() ?? '',
    });
    if (rows.length >= 50) break;
  }
  if (json) print(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) print('no backfill yet');
  else
    print(
      renderTable(
        ['id', 'status', 'started', 'closed'],
        rows.map((row) => [row.id, row.status, row.started, row.closed]),
      ),
    );
  return 0;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
