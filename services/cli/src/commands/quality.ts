import { TidemarkError } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { parseArgs } from 'node:util';
import {
  buildQualityReport,
  qualityExitCode,
  renderQualityJson,
  renderQualityTable,
  type QualityResultEntry,
} from '../reports/quality-report';
import { chooseQualityRun, parseReportDay, type ReportDay } from '../reports/runs';
import { noRunToShow, resolveReportDay, runsOfDay } from './report-runs';
import { pipelineNameProblem } from './pipeline-name';

export const QUALITY_USAGE = `usage: tidemark quality --date <yyyy-mm-dd|latest> [--pipeline <name>] [--json]

the quality gate's results for the day's latest run it checked: each expectation, its severity,
passed or FAILED and what was observed, then whether the gate blocked publication (an ERROR
expectation failed) or passed, with or without warnings

  --date 2026-11-22      the day (UTC), or latest: the most recent day with a run the gate checked
  --pipeline NAME        only the runs of this stream pipeline
  --json                 print JSON instead of a table

exit code: 0 the gate passed (warnings allowed), 1 it blocked publication,
           2 bad input or no run of that day the gate checked`;

/** `tidemark quality` with its options read. */
export interface QualityArgs {
  day: ReportDay;
  pipeline?: string;
  json: boolean;
}

export interface QualityDependencies {
  warehouse: Knex;
  print: (line: string) => void;
}

/** Parses the arguments after `tidemark quality`; throws a BAD_INPUT TidemarkError naming the option. */
export function parseQualityArgs(argv: readonly string[]): QualityArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        date: { type: 'string' },
        pipeline: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new TidemarkError('BAD_INPUT', `${(error as Error).message}\n\n${QUALITY_USAGE}`, {
      cause: error,
    });
  }
  if (values.date === undefined) {
    throw new TidemarkError(
      'BAD_INPUT',
      '--date: required, the day whose gate to show as yyyy-mm-dd (UTC) or latest',
    );
  }
  const day = parseReportDay(values.date);
  if (!day) {
    throw new TidemarkError(
      'BAD_INPUT',
      `--date: expected a day as yyyy-mm-dd, e.g. 2026-11-22, or latest, got ${JSON.stringify(values.date)}`,
    );
  }
  const pipelineProblem = pipelineNameProblem(values.pipeline);
  if (pipelineProblem) throw new TidemarkError('BAD_INPUT', pipelineProblem);
  return { day, json: values.json, ...(values.pipeline ? { pipeline: values.pipeline } : {}) };
}

interface QualityRow {
  expectation: string;
  severity: string;
  passed: boolean;
  observed: unknown;
  message: string;
  checked_at: Date;
}

/**
 * `tidemark quality ...`: the quality gate's results of a day's latest checked run. Returns 0
 * when the gate passed, 1 when it blocked publication; bad input and a day without a checked
 * run throw a BAD_INPUT TidemarkError.
 */
export async function qualityCommand(
  argv: string[],
  dependencies: QualityDependencies,
): Promise<number> {
  const { warehouse, print } = dependencies;
  const args = parseQualityArgs(argv);
  const day = await resolveReportDay(warehouse, args.day, 'gated');
  const runs = await runsOfDay(warehouse, day, args.pipeline);
  const run = chooseQualityRun(runs);
  if (!run) {
    throw await noRunToShow(warehouse, day, runs, 'been through the quality gate', args.pipeline);
  }

  const rows = await warehouse('quality.results')
    .where({ run_id: run.runId })
    .select<QualityRow[]>('expectation', 'severity', 'passed', 'observed', 'message', 'checked_at');
  const results: QualityResultEntry[] = rows.map((row) => ({
    expectation: row.expectation,
    severity: row.severity,
    passed: row.passed,
    observed: row.observed,
    message: row.message,
    checkedAt: row.checked_at,
  }));
  const report = buildQualityReport(run, results);
  print(args.json ? renderQualityJson(report) : renderQualityTable(report));
  return qualityExitCode(report);
}
