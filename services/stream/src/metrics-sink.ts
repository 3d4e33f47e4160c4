import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { writeLateContributions } from './late-ledger';
import { knownRowVersions, type CommitMark } from './row-knowledge';
import { loadPriorImages, recordRowVersions } from './row-versions';
import { queuedInputsByShard } from './session-queue';
import { shardOf } from './shards';
import { writeWindowPartials, type BatchSource } from './window-store';
import { planChanges, type BatchPlan, type KeyedChange } from './windowing/plan';

/** What applying a batch's changes wrote. */
export interface MetricsWriteResult {
  plan: BatchPlan;
  windows: number;
  /** The emission shards of the fixed windows the batch changed (of its topic). */
  windowShards: Set<number>;
  /** The emission shards of the session keys the batch queued contributions for. */
  sessionShards: Set<number>;
  late: number;
}

/** Where a batch stands in its partition's history, for what its rows' history is. */
export interface BatchHistory {
  /** The offset of the batch's first change. */
  batchOffset: bigint;
  /** The latest change the partition applied before the batch (`positions.ts`). */
  commitMark: CommitMark | undefined;
  /** Whether the landing found some of the batch's changes in the changelog already. */
  alreadyLanded: boolean;
}

/**
 * Applies a batch's changes to every metric inside the caller's transaction: the rows' history,
 * the late ledger, and the partition's own partials of the fixed windows (emitted afterwards by
 * the shards' emitters, `window-emitter.ts`). Session windows are not applied here: their keys
 * are not the partitions' keys, so the batch queues their contributions by the emission shard
 * of their key, and the shard's owner applies them (`applyQueuedSessions`). Everything is
 * idempotent.
 */
export async function applyChanges(
  trx: Knex.Transaction,
  pipeline: string,
  changes: readonly KeyedChange[],
  metricsOf: (table: string) => readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  source: BatchSource,
  history: BatchHistory,
): Promise<MetricsWriteResult> {
  const rowVersions = await knownRowVersions(
    trx,
    {
      pipeline,
      topic: source.topic,
      partition: source.partition,
      batchOffset: history.batchOffset,
      commitMark: history.commitMark,
    },
    changes,
  );
  // Changes the changelog held already stay there under their first offsets, which may not be
  // this pipeline's: their rows are known by their recorded versions from now on.
  if (history.alreadyLanded) await recordRowVersions(trx, pipeline, changes);
  const priorImages = await loadPriorImages(trx, changes, rowVersions);
  const plan = planChanges(changes, metricsOf, { rowVersions, watermarks, priorImages });
  const queued = queuedInputsByShard(plan.pendingSessions, (metric, groupKey) =>
    shardOf(metric.name, groupKey, source.shardsOf(metric)),
  );
  if (queued.size > 0) {
    const batchWatermarks = JSON.stringify(Object.fromEntries(watermarks));
    await trx('stream.session_inbox').insert(
      [...queued].map(([shard, inputs]) => ({
        pipeline,
        topic: source.topic,
        shard,
        inputs: JSON.stringify(inputs),
        watermarks: batchWatermarks,
      })),
    );
  }
  await writeLateContributions(trx, pipeline, plan.late);
  const { windows, shards } = await writeWindowPartials(trx, pipeline, source, plan);
  return {
    plan,
    windows,
    windowShards: shards,
    sessionShards: new Set(queued.keys()),
    late: plan.late.length,
  };
}
