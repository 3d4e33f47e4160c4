import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { StateSnapshotActivities } from '../activities/state-snapshot';
import {
  BackfillInputError,
  dayAt,
  dayCount,
  initialProgress,
  validateBackfillRequest,
  type BackfillProgress,
  type BackfillReport,
  type BackfillRequest,
  type BackfillStatus,
} from './backfill-plan';
import { consolidateDayWorkflow } from './consolidate-day';

/** The backfill's progress, at any time. */
export const backfillProgressQuery = defineQuery<BackfillReport>('backfillProgress');
/** Start no new day until resumed; days running go on. */
export const pauseBackfillSignal = defineSignal('pauseBackfill');
export const resumeBackfillSignal = defineSignal('resumeBackfill');
/** Start no new day, cancel the days running (a day publishes atomically or not at all), finish. */
export const cancelBackfillSignal = defineSignal('cancelBackfill');

export interface BackfillInput extends BackfillRequest {
  /** Read the changelog as of this instant: by default when the backfill started. */
  asOf?: string;
  /** Days started by one run before it continues as new, keeping each history short. */
  daysPerRun?: number;
  /** How long a day may wait for the stream to complete it (ms); a backfill's days are past. */
  completenessTimeoutMs?: number;
  /** The stream pipeline its days reconcile against (default: the worker's). */
  pipeline?: string;
  /** Carried across continue-as-new. */
  progress?: BackfillProgress;
  /** The state snapshot its days read, carried across continue-as-new; null: none (rebuild). */
  snapshotId?: number | null;
  paused?: boolean;
}

// Building the snapshot reads every change since the first day once: it may take long, and
// heartbeats say the worker is alive meanwhile.
const snapshots = proxyActivities<StateSnapshotActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_DAYS_PER_RUN = 250;

/** The workflow id of a backfill's day: stable, so a re-run of the backfill reuses it. */
export function backfillDayWorkflowId(backfillId: string, day: string): string {
  return `${backfillId}/${day}`;
}

/**
 * Recomputes the final values of a range of days, one child consolidation per day with at most
 * `concurrency` at once. Pausable, resumable and cancellable by signal, observable by query,
 * and continued as new every `daysPerRun` days so a multi-year range never reaches the history
 * limits. A day that fails (a blocked quality gate, an incomplete day) is recorded and the
 * others go on. Safe to re-run: a day publishes atomically and an unchanged value leaves no
 * trail; every changed one is recorded with its previous value, this run and the reason.
 */
export async function backfillWorkflow(input: BackfillInput): Promise<BackfillReport> {
  try {
    validateBackfillRequest(input);
  } catch (error) {
    if (error instanceof BackfillInputError) {
      throw ApplicationFailure.nonRetryable(error.message, 'BAD_INPUT');
    }
    throw error;
  }
  const backfillId = workflowInfo().workflowId;
  const total = dayCount(input.from, input.to);
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  const daysPerRun = input.daysPerRun ?? DEFAULT_DAYS_PER_RUN;
  const metrics = input.metrics ?? [];
  const asOf = input.asOf ?? new Date().toISOString();
  const reason = `backfill ${backfillId}: ${input.reason ?? 'recompute final values'}`;
  const progress: BackfillProgress = input.progress ?? initialProgress(total);
  const running = new Set<string>();
  let paused = input.paused ?? false;
  let cancelled = false;
  let done = false;
  let startedThisRun = 0;
  let snapshotId: number | null | undefined;

  const status = (): BackfillStatus => {
    if (cancelled) return running.size > 0 ? 'cancelling' : 'cancelled';
    if (done) return 'completed';
    return paused ? 'paused' : 'running';
  };
  const report = (): BackfillReport => ({
    ...progress,
    failed: [...progress.failed],
    backfillId,
    from: input.from,
    to: input.to,
    metrics,
    concurrency,
    reason,
    asOf,
    status: status(),
    running: [...running].sort(),
  });

  // Children run in their own scope, so a cancel signal cancels them and nothing else.
  const days = new CancellationScope();
  setHandler(backfillProgressQuery, report);
  setHandler(pauseBackfillSignal, () => {
    paused = true;
  });
  setHandler(resumeBackfillSignal, () => {
    paused = false;
  });
  setHandler(cancelBackfillSignal, () => {
    cancelled = true;
    days.cancel();
  });

  // The days read the state as of `asOf`, which is the same for all of them: rebuilt once here
  // (a day without it rebuilds its own from the changelog, correct but slower).
  snapshotId = input.snapshotId;
  if (snapshotId === undefined && patched('backfill-state-snapshot')) {
    try {
      snapshotId = (
        await snapshots.prepareBackfillState({
          backfillId,
          from: input.from,
          to: input.to,
          metrics,
          asOf,
        })
      ).snapshotId;
    } catch (error) {
      log.warn('no state snapshot: each day rebuilds its state from the changelog', {
        error: error instanceof Error ? error.message : String(error),
      });
      snapshotId = null;
    }
  }

  const consolidate = (day: string) =>
    days.run(async () => {
      running.add(day);
      try {
        const result = await executeChild(consolidateDayWorkflow, {
          workflowId: backfillDayWorkflowId(backfillId, day),
          args: [
            {
              day,
              asOf,
              reason,
              backfillId,
              ...(snapshotId ? { snapshotId } : {}),
              metrics: metrics.length > 0 ? metrics : undefined,
              completenessTimeoutMs: input.completenessTimeoutMs ?? 0,
              completenessPollMs: 5_000,
              ...(input.pipeline === undefined ? {} : { pipeline: input.pipeline }),
            },
          ],
        });
        progress.succeeded += 1;
        progress.published += result.published;
        progress.changed += result.changed;
      } catch (error) {
        if (!isCancellation(error)) progress.failed.push(failureOf(day, error));
      } finally {
        running.delete(day);
      }
    });

  const mustContinueAsNew = () =>
    startedThisRun >= daysPerRun || workflowInfo().continueAsNewSuggested;
  const canStart = () =>
    !cancelled &&
    !paused &&
    running.size < concurrency &&
    progress.started < total &&
    !mustContinueAsNew();

  const release = async () => {
    if (!snapshotId) return;
    const id = snapshotId;
    await CancellationScope.nonCancellable(() => snapshots.releaseBackfillState(id));
  };
  try {
    for (;;) {
      await condition(
        () =>
          cancelled ||
          canStart() ||
          (running.size === 0 && (progress.started >= total || mustContinueAsNew())),
      );
      if (cancelled) break;
      if (canStart()) {
        const day = dayAt(input.from, progress.started);
        progress.started += 1;
        startedThisRun += 1;
        void consolidate(day);
        continue;
      }
      if (progress.started >= total) break;
      // Every child of this run has finished: go on in a fresh history.
      await continueAsNew<typeof backfillWorkflow>({
        ...input,
        asOf,
        paused,
        snapshotId,
        progress: { ...progress, generation: progress.generation + 1 },
      });
    }
  } catch (error) {
    // Cancelled from outside (not by signal): the snapshot goes, the cancellation goes on.
    if (isCancellation(error)) await release();
    throw error;
  }
  await condition(() => running.size === 0);
  await release();
  done = true;
  return report();
}

function failureOf(day: string, error: unknown) {
  const cause = error instanceof ChildWorkflowFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    return { day, type: cause.type ?? 'ApplicationFailure', message: cause.message };
  }
  return {
    day,
    type: cause instanceof Error ? cause.name : 'Error',
    message: cause instanceof Error ? cause.message : String(cause),
  };
}
