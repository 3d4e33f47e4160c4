import { METRICS } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import type { ReconciliationCause } from '@tidemark/workflows';
import type { Knex } from 'knex';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAuditReport, type ReconciliationEntry } from '../reports/audit-report';
import { renderAuditHtml, renderAuditJson, renderAuditTable } from '../reports/render-audit';
import { chooseAuditRun, parseReportDay, type ReportDay } from '../reports/runs';
import { noRunToShow, resolveReportDay, runsOfDay } from './report-runs';
import { pipelineNameProblem } from './pipeline-name';

export const AUDIT_FORMATS = ['table', 'json', 'html'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

export const AUDIT_USAGE = `usage: tidemark audit --date <yyyy-mm-dd|latest> [--metric <name>] [--pipeline <name>] [--format table|json|html] [--out <file>]

the reconciliation of a day's provisional metrics against its final ones: how many windows (one
per window and key) are exact, how many differ and why, and the largest differences per metric

  --date 2026-11-22      the day (UTC), or latest: the most recent day with a published run
  --metric NAME          only this metric: ${METRICS.map((metric) => metric.name).join(', ')}
  --pipeline NAME        only the runs reconciled against this stream pipeline
  --format table         table (default); json, with a count for every cause, 0 included; or
                         html, a self-contained page with a chart of provisional against final
                         per window for each metric
  --out FILE             write the report to FILE and print its path (html always goes to a
                         file, by default tidemark-audit-<day>.html in the current directory)

The run shown is the day's latest that has reconciled, a published one first, then a blocked or
gated one; every format names its id, status, reason and cutoff.`;

/** `tidemark audit` with its options read. */
export interface AuditArgs {
  day: ReportDay;
  metric?: string;
  pipeline?: string;
  format: AuditFormat;
  out?: string;
}

export interface AuditDependencies {
  warehouse: Knex;
  print: (line: string) => void;
  /** Writes a report file (default: node:fs/promises writeFile, UTF-8). */
  writeFile?: (path: string, contents: string) => Promise<void>;
  /** Where a relative --out, and the default html file, go (default: the process's cwd). */
  cwd?: string;
}

const OPTIONS = {
  date: { type: 'string' },
  metric: { type: 'string' },
  pipeline: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
} as const;

/** Parses the arguments after `tidemark audit`; throws a BAD_INPUT TidemarkError naming the option. */
export function parseAuditArgs(argv: readonly string[]): AuditArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new TidemarkError('BAD_INPUT', `${(error as Error).message}\n\n${AUDIT_USAGE}`, {
      cause: error,
    });
  }
  const problems: string[] = [];
  let day: ReportDay | undefined;
  if (values.date === undefined) {
    problems.push('--date: required, the day to audit as yyyy-mm-dd (UTC) or latest');
  } else {
    day = parseReportDay(values.date);
    if (!day) {
      problems.push(
        `--date: expected a day as yyyy-mm-dd, e.g. 2026-11-22, or latest, got ${JSON.stringify(values.date)}`,
      );
    }
  }
  const names = METRICS.map((metric) => metric.name);
  if (values.metric !== undefined && !(names as string[]).includes(values.metric)) {
    problems.push(
      `--metric: unknown metric ${JSON.stringify(values.metric)}, expected one of ${names.join(', ')}`,
    );
  }
  const format = values.format ?? 'table';
  if (!(AUDIT_FORMATS as readonly string[]).includes(format)) {
    problems.push(
      `--format: expected one of ${AUDIT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    );
  }
  const pipelineProblem = pipelineNameProblem(values.pipeline);
  if (pipelineProblem) problems.push(pipelineProblem);
  if (values.out !== undefined && values.out.trim() === '') {
    problems.push('--out: expected a file name, got an empty one');
  }
  if (problems.length > 0 || !day) {
    throw new TidemarkError(
      'BAD_INPUT',
      problems.length === 1 ? (problems[0] ?? '') : problems.join('\n'),
      { context: { problems } },
    );
  }
  return {
    day,
    ...(values.metric !== undefined && { metric: values.metric }),
    ...(values.pipeline !== undefined && { pipeline: values.pipeline }),
    format: format as AuditFormat,
    ...(values.out !== undefined && { out: values.out }),
  };
}

interface ReconciliationRow {
  metric: string;
  window_start: Date;
  window_end: Date;
  key_values: unknown;
  provisional: string | null;
  final: string | null;
  difference: string | null;
  cause: ReconciliationCause;
  explanation: string | null;
}

const numeric = (value: string | null) => (value === null ? null : Number(value));

/** A run's reconciliation rows, of one metric or all. */
async function reconciliationOf(
  warehouse: Knex,
  runId: string,
  metric: string | undefined,
): Promise<ReconciliationEntry[]> {
  const query = warehouse('audit.reconciliation')
    .where({ run_id: runId })
    .select<ReconciliationRow[]>(
      'metric',
      'window_start',
      'window_end',
      'key_values',
      'provisional',
      'final',
      'difference',
      'cause',
      'explanation',
    )
    .orderBy(['metric', 'window_start', 'window_end']);
  if (metric !== undefined) query.andWhere({ metric });
  return (await query).map((row) => ({
    metric: row.metric,
    windowStart: row.window_start,
    windowEnd: row.window_end,
    keyValues: row.key_values,
    provisional: numeric(row.provisional),
    final: numeric(row.final),
    difference: numeric(row.difference),
    cause: row.cause,
    explanation: row.explanation,
  }));
}

/**
 * `tidemark audit ...`: the reconciliation of a day's run, as a table, JSON or an HTML file.
 * Returns 0; bad input and a day without a reconciled run throw a BAD_INPUT TidemarkError.
 */
export async function auditCommand(
  argv: string[],
  dependencies: AuditDependencies,
): Promise<number> {
  const { warehouse, print } = dependencies;
  const args = parseAuditArgs(argv);
  const day = await resolveReportDay(warehouse, args.day, 'published');
  const runs = await runsOfDay(warehouse, day, args.pipeline);
  const run = chooseAuditRun(runs);
  if (!run) throw await noRunToShow(warehouse, day, runs, 'reconciled', args.pipeline);

  const entries = await reconciliationOf(warehouse, run.runId, args.metric);
  const report = buildAuditReport(
    run,
    entries,
    args.metric === undefined ? {} : { metric: args.metric },
  );
  const rendered =
    args.format === 'html'
      ? renderAuditHtml(report)
      : args.format === 'json'
        ? renderAuditJson(report)
        : renderAuditTable(report);
  const out = args.out ?? (args.format === 'html' ? `tidemark-audit-${day}.html` : undefined);
  if (out === undefined) {
    print(rendered);
    return 0;
  }
  const path = resolve(dependencies.cwd ?? process.cwd(), out);
  await (dependencies.writeFile ?? ((file, text) => writeFile(file, text, 'utf8')))(
    path,
    rendered.endsWith('\n') ? rendered : `${rendered}\n`,
  );
  print(path);
  return 0;
}
