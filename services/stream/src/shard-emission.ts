import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import type { ShardEmission } from './emission-scheduler';
import { applyQueuedSessions, type QueuedSessionsResult } from './session-store';
import { emitShard, type EmissionShard } from './window-emitter';

// The two lanes of emission a consumer runs for the shards it owns (`EmissionScheduler`), each
// in the caller's transaction under the shard's own tried lock: a shard another transaction
// holds is left to it (`held`).

/** The windows lane: the shard's windows whose partials changed, merged and emitted. */
export async function emitWindowShard(
  trx: Knex.Transaction,
  pipeline: string,
  shard: EmissionShard,
): Promise<ShardEmission> {
  const emitted = await emitShard(trx, pipeline, shard);
  return { emitted: emitted ?? 0, more: false, held: emitted === undefined };
}

/**
 * The sessions lane: the session contributions queued for the shard's keys, applied
 * (`session-store.ts`) a bounded share at a time; `more` when some are still queued.
 */
export async function applySessionShard(
  trx: Knex.Transaction,
  pipeline: string,
  shard: EmissionShard,
  options: {
    /** Every metric of the pipeline: contributions queued before sessions were sharded mix them. */
    metrics: readonly MetricDefinition[];
    watermarks: ReadonlyMap<string, number | null>;
    onSessions?: (result: QueuedSessionsResult) => void;
  },
): Promise<ShardEmission> {
  if (!shard.metrics.some((metric) => metric.window.kind === 'session')) {
    return { emitted: 0, more: false };
  }
  const sessions = await applyQueuedSessions(
    trx,
    pipeline,
    { topic: shard.topic, shard: shard.shard },
    options.metrics,
    options.watermarks,
  );
  if (sessions) options.onSessions?.(sessions);
  return {
    emitted: sessions?.sessions ?? 0,
    more: sessions?.more ?? false,
    held: sessions === undefined,
  };
}
