import { renderTable } from '../table';
import { describeRun, runJson, type RunSummary } from './runs';

/** One expectation's result as the gate stored it (a row of quality.results). */
export interface QualityResultEntry {
  expectation: string;
  severity: string;
  passed: boolean;
  observed: unknown;
  message: string;
  checkedAt: Date;
}

/** What the gate decided: only a failed ERROR expectation blocks publication. */
export type GateOutcome = 'passed' | 'passed_with_warnings' | 'blocked';

/** A run's quality gate, ready to render. */
export interface QualityReport {
  run: RunSummary;
  /** ERROR expectations first, then WARN, each by name. */
  results: QualityResultEntry[];
  failedErrors: string[];
  failedWarnings: string[];
  outcome: GateOutcome;
}

const SEVERITY_ORDER: Readonly<Record<string, number>> = { ERROR: 0, WARN: 1 };

/** The gate's results of a run with its outcome, as the consolidation decided it. */
export function buildQualityReport(
  run: RunSummary,
  results: readonly QualityResultEntry[],
): QualityReport {
  const sorted = [...results].sort(
    (a, b) =>
      (SEVERITY_ORDER[a.severity] ?? 2) - (SEVERITY_ORDER[b.severity] ?? 2) ||
      a.expectation.localeCompare(b.expectation),
  );
  const failed = (blocking: boolean) =>
    sorted
      .filter((result) => !result.passed && (result.severity === 'ERROR') === blocking)
      .map((result) => result.expectation);
  const failedErrors = failed(true);
  const failedWarnings = failed(false);
  const outcome: GateOutcome =
    failedErrors.length > 0
      ? 'blocked'
      : failedWarnings.length > 0
        ? 'passed_with_warnings'
        : 'passed';
  return { run, results: sorted, failedErrors, failedWarnings, outcome };
}

/** The exit code of `tidemark quality`: 0 when the gate passed (warnings or not), 1 when it blocked. */
export function qualityExitCode(report: QualityReport): number {
  return report.outcome === 'blocked' ? 1 : 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The line saying whether the gate blocked publication or passed, and with what warnings. */
export function gateVerdict(report: QualityReport): string {
  const warnings =
    report.failedWarnings.length > 0
      ? `${plural(report.failedWarnings.length, 'warning')} (${report.failedWarnings.join(', ')})`
      : '';
  switch (report.outcome) {
    case 'blocked':
      return `gate: BLOCKED publication: ${plural(report.failedErrors.length, 'ERROR expectation')} failed (${report.failedErrors.join(', ')})${warnings ? `; also ${warnings}` : ''}`;
    case 'passed_with_warnings':
      return `gate: passed with ${warnings}; publication was not blocked`;
    case 'passed':
      return `gate: passed, every expectation met`;
  }
}

function shorten(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length <= length ? line : `${line.slice(0, length - 3)}...`;
}

/** The gate's results as a table, then the verdict. */
export function renderQualityTable(report: QualityReport): string {
  const head = `quality gate of ${report.run.day}: ${describeRun(report.run)}`;
  const table = renderTable(
    ['expectation', 'severity', 'result', 'observed'],
    report.results.map((result) => [
      result.expectation,
      result.severity,
      result.passed ? 'passed' : 'FAILED',
      shorten(JSON.stringify(result.observed) ?? 'null', 100),
    ]),
  );
  return [head, '', table, '', gateVerdict(report)].join('\n');
}

/** The gate's results as JSON, with the outcome and whether it blocked publication. */
export function renderQualityJson(report: QualityReport): string {
  return JSON.stringify(
    {
      day: report.run.day,
      run: runJson(report.run),
      outcome: report.outcome,
      blocked: report.outcome === 'blocked',
      failedErrors: report.failedErrors,
      failedWarnings: report.failedWarnings,
      results: report.results.map((result) => ({
        expectation: result.expectation,
        severity: result.severity,
        passed: result.passed,
        observed: result.observed,
        message: result.message,
        checkedAt: result.checkedAt.toISOString(),
      })),
    },
    null,
    2,
  );
}
