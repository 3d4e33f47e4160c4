import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { writeLateContributions } from './late-ledger';
import { advanceRowVersions, loadPriorImages } from './row-versions';
import { queuedInputsOf } from './session-queue';
import { writeWindowPartials, type BatchSource } from './window-store';
import { planChanges, type BatchPlan, type KeyedChange } from './windowing/plan';

/** What applying a batch's changes wrote. */
export interface MetricsWriteResult {
  plan: BatchPlan;
  windows: number;
  /** The emission shards of the windows the batch changed (of its own topic). */
  shards: Set<number>;
  late: number;
}

/**
 * Applies a batch's changes to every metric inside the caller's transaction: the row versions,
 * the late ledger, and the partition's own partials of the fixed windows (emitted afterwards by
 * the shards' emitters, `window-emitter.ts`). Session windows are not applied here: their keys
 * are not the partitions' keys, so the batch queues their contributions, and
 * `applyQueuedSessions` applies them. Everything is idempotent.
 */
export async function applyChanges(
  trx: Knex.Transaction,
  pipeline: string,
  changes: readonly KeyedChange[],
  metricsOf: (table: string) => readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  source: BatchSource,
): Promise<MetricsWriteResult> {
  const rowVersions = await advanceRowVersions(trx, pipeline, changes);
  const priorImages = await loadPriorImages(trx, changes, rowVersions);
  const plan = planChanges(changes, metricsOf, { rowVersions, watermarks, priorImages });
  const queued = queuedInputsOf(plan.pendingSessions);
  if (queued.length > 0) {
    await trx('stream.session_inbox').insert({
      pipeline,
      inputs: JSON.stringify(queued),
      watermarks: JSON.stringify(Object.fromEntries(watermarks)),
    });
  }
  await writeLateContributions(trx, pipeline, plan.late);
  const { windows, shards } = await writeWindowPartials(trx, pipeline, source, plan);
  return { plan, windows, shards, late: plan.late.length };
}
