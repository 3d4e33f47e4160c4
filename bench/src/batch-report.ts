import type { BatchMeasurements } from './batch-bench';
import type { MachineInfo } from './report';

/**
 * The targets of the batch issue: a day's consolidation within 1.5x of plain SQL over its rows,
 * and a 365-day backfill in under 5 minutes.
 */
export const BATCH_TARGETS = { ratioToBaseline: 1.5, backfill365DaysS: 300 } as const;

/** What each number of batch.json includes. */
export const BATCH_DEFINITIONS = {
  consolidation_s:
    'computeFinalValues for every catalogue metric of the day, as the workflow runs it: each source ' +
    "table's state as of the cutoff rebuilt once from the raw changelog (latest version per key, " +
    'deletes and truncates applied), the windowed aggregates (sessions: gaps and islands), and the ' +
    'final values written to final.staged_values (primary-key indexed), in one transaction',
  sql_baseline_s:
    "the same metrics as plain SQL (GROUP BY; sessions: gaps and islands) over the same rows: the day's " +
    'changes in raw.change_events read as an append log (every insert and update an event, fields ' +
    'read from the jsonb row, no latest-version rebuild, so its numbers are not the final values), ' +
    'writing its rows to an unindexed temporary table',
  sql_baseline_final_state_s:
    "the same plain SQL over the day's final table state already materialised as typed tables (the " +
    'materialisation not timed; its values are checked equal to the final values, see ' +
    'mismatched_values): the cost of the aggregates alone, without the changelog',
  quality_gate_s:
    "runQualityGate over the day: every expectation, scoped to the day's rows (the synthetic rows are " +
    'not in the source database, so row_count_matches_source fails by design)',
  backfill_365_days_s:
    'backfillWorkflow over 365 days of modest synthetic traffic, from its start to its report',
} as const;

/** The contents of bench/results/batch.json. */
export interface BatchResult {
  timestamp: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  day: string;
  changes: number;
  consolidation_s: number;
  sql_baseline_s: number;
  /** consolidation_s / sql_baseline_s. */
  ratio: number;
  sql_baseline_final_state_s: number;
  /** consolidation_s / sql_baseline_final_state_s. */
  ratio_to_final_state: number;
  quality_gate_s: number;
  backfill_365_days_s: number | null;
  target: { target: string; actual: number; met: boolean };
  /** Judged only when 365 days were backfilled (null: not measured, or another number of days). */
  backfill_target: { target: string; actual: number | null; met: boolean | null };
  /** Final values that differ from the final-state baseline's (0: the same numbers). */
  mismatched_values: number;
  definitions: typeof BATCH_DEFINITIONS;
  details: {
    changes: BatchMeasurements['counts'];
    generate_s: number;
    consolidation: { passes_s: number[]; values: number };
    baseline: { passes_s: number[]; rows: number; metrics: string[] };
    final_state_baseline: {
      passes_s: number[];
      rows: number;
      metrics: string[];
      state_rows: Record<string, number>;
    };
    comparison: BatchMeasurements['comparison'];
    quality_gate_failed: string[];
    backfill: BatchMeasurements['backfill'];
  };
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/** Judges a batch run against its target and shapes it as the results file. */
export function buildBatchResult(
  measured: BatchMeasurements,
  machine: MachineInfo,
  options: Record<string, unknown>,
  timestamp: Date,
): BatchResult {
  const ratioTo = (ms: number) =>
    ms > 0 ? Math.round((measured.consolidation.ms / ms) * 100) / 100 : 0;
  const ratio = ratioTo(measured.changelogBaseline.ms);
  return {
    timestamp: timestamp.toISOString(),
    machine,
    options,
    day: measured.day,
    changes: measured.counts.changes,
    consolidation_s: seconds(measured.consolidation.ms),
    sql_baseline_s: seconds(measured.changelogBaseline.ms),
    ratio,
    sql_baseline_final_state_s: seconds(measured.stateBaseline.ms),
    ratio_to_final_state: ratioTo(measured.stateBaseline.ms),
    quality_gate_s: seconds(measured.qualityGate.ms),
    backfill_365_days_s: measured.backfill.seconds,
    target: {
      target: `<= ${BATCH_TARGETS.ratioToBaseline}`,
      actual: ratio,
      met: ratio > 0 && ratio <= BATCH_TARGETS.ratioToBaseline,
    },
    backfill_target: backfillTarget(measured.backfill),
    mismatched_values: measured.comparison.mismatched,
    definitions: BATCH_DEFINITIONS,
    details: {
      changes: measured.counts,
      generate_s: seconds(measured.generateMs),
      consolidation: {
        passes_s: measured.consolidation.passesMs.map(seconds),
        values: measured.consolidation.values,
      },
      baseline: {
        passes_s: measured.changelogBaseline.passesMs.map(seconds),
        rows: measured.changelogBaseline.rows,
        metrics: measured.changelogBaseline.metrics,
      },
      final_state_baseline: {
        passes_s: measured.stateBaseline.passesMs.map(seconds),
        rows: measured.stateBaseline.rows,
        metrics: measured.stateBaseline.metrics,
        state_rows: measured.stateBaseline.stateRows,
      },
      comparison: measured.comparison,
      quality_gate_failed: measured.qualityGate.failed,
      backfill: measured.backfill,
    },
  };
}

function backfillTarget(backfill: BatchMeasurements['backfill']): BatchResult['backfill_target'] {
  const judged = backfill.seconds !== null && backfill.days === 365;
  return {
    target: `< ${BATCH_TARGETS.backfill365DaysS}`,
    actual: backfill.seconds,
    met: judged ? (backfill.seconds as number) < BATCH_TARGETS.backfill365DaysS : null,
  };
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');

/** The batch run as a plain-text table. */
export function renderBatchResult(result: BatchResult): string {
  const rows: [string, string, string, string][] = [
    [
      'consolidation of the day (computeFinalValues)',
      `${result.consolidation_s.toFixed(2)} s`,
      '',
      '',
    ],
    ["plain SQL GROUP BY over the day's changes", `${result.sql_baseline_s.toFixed(2)} s`, '', ''],
    [
      'consolidation / plain SQL',
      `${result.ratio.toFixed(2)} x`,
      `<= ${BATCH_TARGETS.ratioToBaseline} x`,
      result.target.met ? 'met' : 'NOT met',
    ],
    [
      'plain SQL over the final state as typed tables',
      `${result.sql_baseline_final_state_s.toFixed(2)} s`,
      '',
      '',
    ],
    ['consolidation / that', `${result.ratio_to_final_state.toFixed(2)} x`, '', ''],
    ['quality gate of the day', `${result.quality_gate_s.toFixed(2)} s`, '', ''],
    [
      'backfill of 365 days',
      result.backfill_365_days_s === null ? 'n/a' : `${result.backfill_365_days_s.toFixed(1)} s`,
      `< ${BATCH_TARGETS.backfill365DaysS} s`,
      result.backfill_target.met === null ? '' : result.backfill_target.met ? 'met' : 'NOT met',
    ],
  ];
  const widths = [0, 1, 2, 3].map((column) =>
    Math.max(
      ['measurement', 'value', 'target', 'status'][column]?.length ?? 0,
      ...rows.map((row) => row[column]?.length ?? 0),
    ),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, column) =>
        column === 1 || column === 2
          ? value.padStart(widths[column] ?? 0)
          : value.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const { details } = result;
  const changes = details.changes;
  return [
    line(['measurement', 'value', 'target', 'status']),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map(line),
    '',
    `day ${result.day}: ${integer(result.changes)} changes (orders ${integer(changes.orders.c)} inserts, ` +
      `${integer(changes.orders.u)} updates, ${integer(changes.orders.d)} deletes; payments ` +
      `${integer(changes.payments.c)} / ${integer(changes.payments.u)} / ${integer(changes.payments.d)}), ` +
      `written in ${details.generate_s.toFixed(1)} s`,
    `final values: ${integer(details.consolidation.values)}; against the final-state baseline: ` +
      `${integer(details.comparison.compared)} compared, ${integer(details.comparison.mismatched)} mismatched`,
    `passes: consolidation ${details.consolidation.passes_s.join(', ')} s; plain SQL ` +
      `${details.baseline.passes_s.join(', ')} s; over the final state ` +
      `${details.final_state_baseline.passes_s.join(', ')} s`,
    ...(result.backfill_365_days_s === null ? [`backfill: ${details.backfill.note}`] : []),
    `machine: ${result.machine.cpus} CPUs (${result.machine.cpuModel}), ${result.machine.memoryGb} GB`,
  ].join('\n');
}
