import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { METRICS } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import {
  consolidateDayWorkflow,
  consolidationWorkflowId,
  dayBefore,
  isDay,
  type ConsolidateDayResult,
} from '@tidemark/workflows';
import { parseArgs } from 'node:util';
import { renderTable } from '../table';
import { hasWorker, noWorkerHint } from './temporal-workers';
import { pipelineNameProblem } from './pipeline-name';

export const CONSOLIDATE_USAGE = `usage: tidemark consolidate --date <yyyy-mm-dd|yesterday> [--metric <name>]... [--as-of <time|now>] [--pipeline <name>] [--json]

Consolidates one UTC day into final values now (what the nightly Schedule does): waits until the
stream's watermark has passed the day's end plus its allowed lateness (or --as-of, if earlier),
computes every metric from the raw changelog, reconciles provisional against final, runs the
quality gate and publishes, unless an ERROR expectation failed. Exit 1 when the gate blocked.
A Temporal worker must run (\`tidemark worker\`).

  --date DAY             the day, or "yesterday"
  --metric NAME          only this metric (repeat for more); known: ${METRICS.map((metric) => metric.name).join(', ')}
  --as-of TIME           read the changelog up to this ISO time, or "now" (default: day end + lateness)
  --wait 10m             how long to wait for the stream to complete the day (default 10m)
  --pipeline NAME        the stream pipeline to judge completeness by and reconcile against
                         (default: TIDEMARK_STREAM_PIPELINE)
  --json                 print the result as JSON`;

export interface ConsolidateArgs {
  day: string;
  metrics?: string[];
  asOf?: string;
  waitMs: number;
  pipeline?: string;
  json: boolean;
}

const WAIT = /^(\d+)(s|m|h)$/;
const WAIT_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

function badInput(message: string): TidemarkError {
  return new TidemarkError('BAD_INPUT', `${message}\n\n${CONSOLIDATE_USAGE}`);
}

/** Parses the arguments after `tidemark consolidate`; throws a BAD_INPUT error naming the option. */
export function parseConsolidateArgs(argv: readonly string[], now = new Date()): ConsolidateArgs {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        date: { type: 'string' },
        metric: { type: 'string', multiple: true },
        'as-of': { type: 'string' },
        wait: { type: 'string', default: '10m' },
        pipeline: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw badInput((error as Error).message);
  }
  const problems: string[] = [];
  const day = values.date === 'yesterday' ? dayBefore(now) : values.date;
  if (day === undefined) problems.push('--date: required, a day (yyyy-mm-dd) or "yesterday"');
  else if (!isDay(day)) {
    problems.push(`--date: not a day: ${JSON.stringify(day)} (expected yyyy-mm-dd)`);
  }
  const known = METRICS.map((metric) => metric.name);
  for (const name of values.metric ?? []) {
    if (!known.includes(name)) {
      problems.push(`--metric: unknown metric "${name}" (known: ${known.join(', ')})`);
    }
  }
  let asOf = values['as-of'];
  if (asOf === 'now') asOf = now.toISOString();
  else if (asOf !== undefined && Number.isNaN(Date.parse(asOf))) {
    problems.push(`--as-of: not a time: ${JSON.stringify(asOf)} (an ISO time, or "now")`);
  }
  const wait = WAIT.exec(values.wait);
  if (!wait)
    problems.push(`--wait: expected a duration such as 90s, 10m or 2h, got ${values.wait}`);
  const pipelineProblem = pipelineNameProblem(values.pipeline);
  if (pipelineProblem) problems.push(pipelineProblem);
  if (problems.length > 0) throw badInput(`invalid arguments:\n  ${problems.join('\n  ')}`);
  return {
    day: day!,
    ...(values.pipeline === undefined ? {} : { pipeline: values.pipeline }),
    metrics: values.metric,
    asOf: asOf === undefined ? undefined : new Date(asOf).toISOString(),
    waitMs: Number(wait![1]) * WAIT_UNIT_MS[wait![2] as keyof typeof WAIT_UNIT_MS],
    json: values.json,
  };
}

function formatWait(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** Runs `tidemark consolidate`; exit code 0 when published, 1 when blocked or incomplete. */
export async function consolidateCommand(
  argv: string[],
  deps: {
    client: Client;
    taskQueue: string;
    print: (line: string) => void;
    /** The pipeline when --pipeline is not given (the configured one). */
    defaultPipeline?: string;
  },
): Promise<number> {
  const args = parseConsolidateArgs(argv);
  const pipeline = args.pipeline ?? deps.defaultPipeline;
  const { client, print } = deps;
  if (!(await hasWorker(client, deps.taskQueue))) {
    throw new TidemarkError('WORKER_UNAVAILABLE', noWorkerHint(deps.taskQueue));
  }
  const workflowId = consolidationWorkflowId(args.day);
  print(`consolidating ${args.day} (workflow ${workflowId}) ...`);
  const judged =
    pipeline === undefined
      ? "the worker's stream pipeline (its TIDEMARK_STREAM_PIPELINE)"
      : `stream pipeline ${pipeline}`;
  print(
    `  it waits up to ${formatWait(args.waitMs)} (--wait) until the watermarks of ${judged} pass the day's end plus lateness`,
  );
  let result: ConsolidateDayResult;
  try {
    result = await client.workflow.execute(consolidateDayWorkflow, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [
        {
          day: args.day,
          metrics: args.metrics,
          asOf: args.asOf,
          reason: 'consolidation run by hand (tidemark consolidate)',
          completenessTimeoutMs: args.waitMs,
          completenessPollMs: 2_000,
          ...(pipeline === undefined ? {} : { pipeline }),
        },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      print(
        `a consolidation of ${args.day} is already running (workflow ${workflowId}): see the Temporal UI, or wait for it`,
      );
      return 1;
    }
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      print(`${cause.type}: ${cause.message}`);
      if (cause.type === 'QUALITY_GATE_FAILED') {
        print('the previously published final values stay; `tidemark quality --date` shows why');
      }
      return 1;
    }
    throw error;
  }
  if (args.json) {
    print(JSON.stringify(result, null, 2));
    return 0;
  }
  print(describeConsolidation(result));
  return 0;
}

/** A consolidation's outcome in a few lines: values, publication, gate and reconciliation. */
export function describeConsolidation(result: ConsolidateDayResult): string {
  const causes = Object.entries(result.reconciliation).map(([cause, count]) => [cause, count]);
  return [
    `run ${result.runId}: day ${result.day} as of ${result.cutoff}`,
    `published ${result.published} final values (${result.changed} changed from the previous publication)`,
    `quality gate: passed${result.quality.warnings.length > 0 ? ` with warnings: ${result.quality.warnings.join(', ')}` : ''}`,
    renderTable(['reconciliation', 'windows'], causes as [string, number][]),
  ].join('\n');
}
