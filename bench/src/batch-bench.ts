import { EXPECTATIONS, METRICS } from '@tidemark/contracts';
import type { Config, Logger } from '@tidemark/runtime';
import {
  backfillWorkflow,
  createConsolidationActivities,
  createTemporalClient,
  createTidemarkWorker,
} from '@tidemark/workflows';
import type { Knex } from 'knex';
import {
  changelogMetricSql,
  compareWithBaseline,
  materialiseBaselineState,
  runBaseline,
} from './batch-baseline';
import {
  attachBenchPartitions,
  benchPartitionDays,
  dropBenchPartitions,
  nextDay,
  writeBenchDay,
  type BenchDayCounts,
} from './batch-day';
import { medianBy } from './stats';

export interface BatchBenchOptions {
  /** The bench's day, far from any real data: its partitions are the bench's alone. */
  day: string;
  changes: number;
  customers: number;
  /** Consolidations (and baselines) of the day; the median is reported. */
  passes: number;
  /** The backfill measurement's first day (in the past); no measurement when undefined. */
  backfillFrom: string | undefined;
  /** Its days of modest traffic, and their changes. */
  backfillDays: number;
  backfillChangesPerDay: number;
}

export interface BatchBenchDeps {
  config: Config;
  warehouse: Knex;
  /** The source database, read-only: the quality gate counts its rows. */
  source: Knex;
  topicPrefix: string;
  options: BatchBenchOptions;
  logger: Logger;
}

/** The backfill's timing; `seconds` is null while it cannot be measured, `note` says why. */
export interface BackfillMeasurement {
  seconds: number | null;
  days: number;
  changesPerDay: number;
  note: string;
}

/** What the batch bench measured. */
export interface BatchMeasurements {
  day: string;
  counts: BenchDayCounts;
  generateMs: number;
  consolidation: { passesMs: number[]; ms: number; values: number };
  /** Plain GROUP BY per metric over the same changes (the changelog read as an append log). */
  changelogBaseline: { passesMs: number[]; ms: number; rows: number; metrics: string[] };
  /** Plain GROUP BY per metric over the day's final state materialised as typed tables. */
  stateBaseline: {
    passesMs: number[];
    ms: number;
    rows: number;
    metrics: string[];
    stateRows: Record<string, number>;
  };
  /** The run's final values against the baseline's: the consolidation's numbers are right. */
  comparison: { compared: number; mismatched: number };
  qualityGate: { ms: number; failed: string[] };
  backfill: BackfillMeasurement;
}

const elapsedMs = (startedAt: number) => performance.now() - startedAt;

/**
 * The day's consolidation next to the plain SQL baseline, in one run: the day is written into
 * the raw changelog inside a transaction that is rolled back at the end, so no other session
 * (the stream, a test, another engineer's consolidation) ever reads the bench's million changes;
 * both measurements read the same rows, in the same (warm) cache state.
 */
export async function runBatchBench(deps: BatchBenchDeps): Promise<BatchMeasurements> {
  const { options } = deps;
  const day = await measureDay(deps);
  const plan = {
    from: options.backfillFrom ?? '',
    days: options.backfillDays,
    changesPerDay: options.backfillChangesPerDay,
  };
  const backfill = options.backfillFrom
    ? await measureBackfill(deps, plan)
    : { seconds: null, days: plan.days, changesPerDay: plan.changesPerDay, note: 'not measured' };
  return { ...day, backfill };
}

async function measureDay(deps: BatchBenchDeps): Promise<Omit<BatchMeasurements, 'backfill'>> {
  const { warehouse, options, logger } = deps;
  const days = benchPartitionDays(options.day);
  await attachBenchPartitions(warehouse, days);
  const trx = await warehouse.transaction();
  try {
    logger.info('writing the bench day', { day: options.day, changes: options.changes });
    const generating = performance.now();
    const counts = await writeBenchDay(trx, {
      day: options.day,
      changes: options.changes,
      customers: options.customers,
      topicPrefix: deps.topicPrefix,
    });
    for (const day of days) {
      await trx.raw('ANALYZE raw.??', [`change_events_${day.replaceAll('-', '')}`]);
    }
    const generateMs = elapsedMs(generating);
    logger.info('bench day written', { ...counts, generateMs: Math.round(generateMs) });

    const activities = createConsolidationActivities({
      warehouse: trx,
      source: deps.source,
      pipeline: 'bench',
    });
    const runId = `bench-batch-${Date.now()}`;
    const run = await activities.startConsolidation({
      runId,
      workflowId: runId,
      day: options.day,
      reason: 'bench',
    });
    const metrics = METRICS.map((metric) => metric.name);
    const dayStart = new Date(run.rangeStart);
    const cutoff = new Date(run.cutoff);
    const timed = async <T>(label: string, measure: () => Promise<T>) => {
      const passes: (T & { ms: number })[] = [];
      for (let pass = 1; pass <= options.passes; pass += 1) {
        const startedAt = performance.now();
        const result = await measure();
        passes.push({ ...result, ms: elapsedMs(startedAt) });
        logger.info(`${label} measured`, { pass, ms: Math.round(elapsedMs(startedAt)) });
      }
      return { ...medianBy(passes, (pass) => pass.ms), passesMs: passes.map((pass) => pass.ms) };
    };

    const changelogBaseline = await timed('changelog baseline', () =>
      runBaseline(trx, dayStart, metrics, changelogMetricSql(dayStart, cutoff)),
    );
    const consolidation = await timed('consolidation', () => activities.computeFinalValues(run));
    const stateRows = await materialiseBaselineState(
      trx,
      new Date(dayStart.getTime() - 86_400_000),
      cutoff,
    );
    const stateBaseline = await timed('final-state baseline', () =>
      runBaseline(trx, dayStart, metrics),
    );
    const comparison = await compareWithBaseline(trx, runId, stateBaseline.metrics);

    const gateStartedAt = performance.now();
    const quality = await activities.runQualityGate(run, 0);
    const gateMs = elapsedMs(gateStartedAt);
    logger.info('quality gate measured', { ms: Math.round(gateMs), failed: quality.errors });

    return {
      day: options.day,
      counts,
      generateMs,
      consolidation: {
        passesMs: consolidation.passesMs,
        ms: consolidation.ms,
        values: consolidation.values,
      },
      changelogBaseline: {
        passesMs: changelogBaseline.passesMs,
        ms: changelogBaseline.ms,
        rows: changelogBaseline.rows,
        metrics: changelogBaseline.metrics,
      },
      stateBaseline: {
        passesMs: stateBaseline.passesMs,
        ms: stateBaseline.ms,
        rows: stateBaseline.rows,
        metrics: stateBaseline.metrics,
        stateRows,
      },
      comparison,
      qualityGate: {
        ms: gateMs,
        failed: [...quality.errors, ...quality.warnings],
      },
    };
  } finally {
    await trx.rollback();
    const left = await dropBenchPartitions(warehouse, days);
    // Their rows were rolled back: what stays is empty.
    if (left.length > 0) logger.warn('bench partitions left in place (busy)', { left });
  }
}

export interface BackfillPlan {
  /** The first day, yyyy-mm-dd. */
  from: string;
  days: number;
  changesPerDay: number;
}

/** The days of a plan, yyyy-mm-dd, in order. */
export function backfillDaysOf(plan: Pick<BackfillPlan, 'from' | 'days'>): string[] {
  const days = [plan.from];
  while (days.length < plan.days) days.push(nextDay(days.at(-1) as string));
  return days;
}

/**
 * Writes and commits the plan's days of modest synthetic traffic (a backfill's workers read them
 * from other sessions); `removeBackfillDays` takes them away again.
 */
export async function writeBackfillDays(
  warehouse: Knex,
  plan: BackfillPlan,
  topicPrefix: string,
): Promise<number> {
  let changes = 0;
  const days = backfillDaysOf(plan);
  await attachBenchPartitions(warehouse, [...days, nextDay(days.at(-1) ?? plan.from)]);
  for (const day of days) {
    const counts = await writeBenchDay(warehouse, {
      day,
      changes: plan.changesPerDay,
      customers: Math.max(1, Math.round(plan.changesPerDay / 8)),
      topicPrefix,
    });
    changes += counts.changes;
  }
  return changes;
}

/** Removes the plan's days: their changelog partitions and whatever the runs wrote for them. */
export async function removeBackfillDays(warehouse: Knex, plan: BackfillPlan): Promise<void> {
  const days = backfillDaysOf(plan);
  const firstDay = plan.from;
  const lastDay = days.at(-1) ?? plan.from;
  const first = `${firstDay}T00:00:00Z`;
  const afterLast = `${nextDay(lastDay)}T00:00:00Z`;
  await warehouse.transaction(async (trx) => {
    const runs = trx('final.runs').whereBetween('day', [firstDay, lastDay]).select('run_id');
    await trx('audit.reconciliation').whereIn('run_id', runs).delete();
    await trx('quality.results').whereIn('run_id', runs).delete();
    await trx('final.value_changes').whereIn('run_id', runs).delete();
    await trx('final.staged_values').whereIn('run_id', runs).delete();
    await trx('final.metric_values')
      .where('window_start', '>=', first)
      .andWhere('window_start', '<', afterLast)
      .delete();
    await trx('final.runs').whereIn('run_id', runs).delete();
  });
  await dropBenchPartitions(warehouse, [...days, nextDay(lastDay)]);
}

/**
 * The backfill of `plan.days` days of modest traffic, timed from the workflow's start to its
 * report: the days are written (committed: the worker reads them from its own sessions), a
 * worker runs `backfillWorkflow` over them with the consolidation activities, then the days and
 * everything the runs wrote are removed. The days are in the past (a day is consolidated once the
 * stream's watermark passed it: a bench pipeline's watermark is set to now), and the source
 * database does not hold their rows, so the row-count expectations are left out of the gate.
 */
export async function measureBackfill(
  deps: BatchBenchDeps,
  plan: BackfillPlan,
): Promise<BackfillMeasurement> {
  const { warehouse, logger } = deps;
  const days = backfillDaysOf(plan);
  const pipeline = `bench-backfill-${Date.now()}`;
  const measured = { days: plan.days, changesPerDay: plan.changesPerDay };
  try {
    logger.info('writing the backfill days', { from: plan.from, days: plan.days });
    const changes = await writeBackfillDays(warehouse, plan, deps.topicPrefix);
    await warehouse('stream.watermarks').insert(
      METRICS.map((metric) => ({ pipeline, metric: metric.name, watermark: new Date() })),
    );
    const { worker, connection } = await createTidemarkWorker({
      config: deps.config,
      warehouse,
      source: deps.source,
      taskQueue: pipeline,
      pipeline,
      expectations: EXPECTATIONS.filter(
        (expectation) => expectation.kind !== 'row_count_matches_source',
      ),
    });
    const running = worker.run();
    const client = await createTemporalClient(deps.config);
    try {
      const startedAt = performance.now();
      const report = await client.workflow.execute(backfillWorkflow, {
        taskQueue: pipeline,
        workflowId: pipeline,
        args: [{ from: plan.from, to: days.at(-1) ?? plan.from, reason: 'bench' }],
      });
      const seconds = Math.round(elapsedMs(startedAt)) / 1000;
      logger.info('backfill measured', { seconds, status: report.status });
      return {
        ...measured,
        seconds,
        note: `${changes} changes; backfill ${report.status}, ${report.failed.length} days failed`,
      };
    } finally {
      await client.connection.close();
      worker.shutdown();
      await running;
      await connection.close();
    }
  } finally {
    await warehouse('stream.watermarks').where({ pipeline }).delete();
    await removeBackfillDays(warehouse, plan);
  }
}
