import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import type { ShardEmission } from './emission-scheduler';
import { applyQueuedSessions, type QueuedSessionsResult } from './session-store';
import { emitShards, type EmissionShard } from './window-emitter';

// The two lanes of emission a consumer runs for the shards it owns (`EmissionScheduler`), each
// in the caller's transaction under the shard's own tried lock: a shard another transaction
// holds is left to it (`held`).

/** The windows lane: the shards' windows whose partials changed, merged and emitted. */
export async function emitWindowShards(
  trx: Knex.Transaction,
  pipeline: string,
  shards: readonly EmissionShard[],
): Promise<ShardEmission[]> {
  const emitted = await emitShards(trx, pipeline, shards);
  return emitted.map((count) => ({ emitted: count ?? 0, more: false, held: count === undefined }));
}

/**
 * The sessions lane: the session contributions queued for each shard's keys, applied
 * (`session-store.ts`) a bounded share at a time; `more` when some are still queued.
 */
export async function applySessionShards(
  trx: Knex.Transaction,
  pipeline: string,
  shards: readonly EmissionShard[],
  options: SessionLaneOptions,
): Promise<ShardEmission[]> {
  const results: ShardEmission[] = [];
  for (const shard of shards) results.push(await applySessionShard(trx, pipeline, shard, options));
  return results;
}

interface SessionLaneOptions {
  /** Every metric of the pipeline: contributions queued before sessions were sharded mix them. */
  metrics: readonly MetricDefinition[];
  watermarks: ReadonlyMap<string, number | null>;
  onSessions?: (result: QueuedSessionsResult) => void;
}

async function applySessionShard(
  trx: Knex.Transaction,
  pipeline: string,
  shard: EmissionShard,
  options: SessionLaneOptions,
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
