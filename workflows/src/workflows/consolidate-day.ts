import {
  ApplicationFailure,
  patched,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  ConsolidationActivities,
  QualityOutcome,
  ReconciliationCounts,
} from '../activities/consolidation';

// Database work is idempotent, so transient failures are retried with backoff; a bad input or a
// blocked gate is a non-retryable ApplicationFailure with its own type.
// Activities heartbeat every 5 s: a worker that dies mid-activity is noticed within 30 s.
const activities = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 6,
    nonRetryableErrorTypes: ['BAD_INPUT'],
  },
});

export interface ConsolidateDayInput {
  /** The UTC day, yyyy-mm-dd. */
  day: string;
  /** Consolidate the changes committed up to this instant instead of the day's end + lateness. */
  asOf?: string;
  /** Why this run happens (the nightly schedule, a backfill, a correction): kept with every change. */
  reason?: string;
  /** Only these metrics (every metric when absent): their published values alone are replaced. */
  metrics?: string[];
  /** The backfill this run belongs to, if any. */
  backfillId?: string;
  /** The backfill's state snapshot (see prepareBackfillState), read instead of rebuilding. */
  snapshotId?: number;
  /** The stream pipeline to judge completeness by and reconcile against (default: the worker's). */
  pipeline?: string;
  /** How long to wait for the stream's watermark to pass the cutoff before failing (ms). */
  completenessTimeoutMs?: number;
  /** How often to look again while waiting (ms). */
  completenessPollMs?: number;
}

export interface ConsolidateDayResult {
  runId: string;
  day: string;
  cutoff: string;
  values: number;
  published: number;
  changed: number;
  reconciliation: ReconciliationCounts;
  quality: QualityOutcome;
}

/** Failure types a caller may act on. */
export const CONSOLIDATION_FAILURES = {
  incomplete: 'DAY_INCOMPLETE',
  blocked: 'QUALITY_GATE_FAILED',
} as const;

/**
 * Consolidates one day into final values: waits until the stream's watermark has passed the
 * cutoff, computes every metric from the raw changelog, reconciles provisional against final,
 * checks the quality gate and publishes atomically, unless an ERROR expectation failed, in which
 * case the previously published values stay untouched. Re-running a day is idempotent.
 */
export async function consolidateDayWorkflow(
  input: ConsolidateDayInput,
): Promise<ConsolidateDayResult> {
  const info = workflowInfo();
  const run = await activities.startConsolidation({
    runId: `${info.workflowId}/${info.runId}`,
    workflowId: info.workflowId,
    day: input.day,
    asOf: input.asOf,
    reason: input.reason ?? 'nightly consolidation',
    metrics: input.metrics,
    backfillId: input.backfillId,
    snapshotId: input.snapshotId,
    ...(input.pipeline === undefined ? {} : { pipeline: input.pipeline }),
  });

  const timeoutMs = input.completenessTimeoutMs ?? 6 * 60 * 60 * 1000;
  const pollMs = input.completenessPollMs ?? 60_000;
  for (let waitedMs = 0; ; waitedMs += pollMs) {
    const { complete, behind, pipeline, waiting } = await activities.isComplete(run);
    if (complete) break;
    if (waitedMs >= timeoutMs) {
      if (patched('mark-incomplete-runs')) await activities.markRunIncomplete(run);
      const judged = pipeline === undefined ? "the stream's" : `stream pipeline ${pipeline}'s`;
      throw ApplicationFailure.nonRetryable(
        `day ${input.day} is not complete after ${Math.round(waitedMs / 1000)} s: ${judged} watermarks have not passed ${run.completeAt} (the day's end plus its metrics' lateness): ${(waiting ?? behind).join('; ')}`,
        CONSOLIDATION_FAILURES.incomplete,
      );
    }
    await sleep(pollMs);
  }

  const { values } = await activities.computeFinalValues(run);
  const reconciliation = await activities.reconcile(run);
  const quality = await activities.runQualityGate(run, reconciliation.unexplained);
  if (quality.errors.length > 0) {
    await activities.blockRun(run);
    throw ApplicationFailure.nonRetryable(
      `quality gate blocked the publication of ${input.day}: ${quality.errors.join('; ')}`,
      CONSOLIDATION_FAILURES.blocked,
      { runId: run.runId, quality },
    );
  }
  const { published, changed } = await activities.publishFinalValues(run);
  return {
    runId: run.runId,
    day: run.day,
    cutoff: run.cutoff,
    values,
    published,
    changed,
    reconciliation,
    quality,
  };
}
