import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import type { ShardEmission } from './emission-scheduler';
import { applyQueuedSessions, type QueuedSessionsResult } from './session-store';
import { emitShard, type EmissionShard } from './window-emitter';

/**
 * One emission shard's turn, in the caller's transaction: the session contributions queued for
 * its keys are applied (`session-store.ts`), then the windows whose partials changed are emitted
 * (`window-emitter.ts`). Both take the shard's own tried lock, so a shard another transaction
 * holds is left to it (`held`). `more`: session contributions are still queued for the shard.
 */
export async function emitShardTurn(
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
  let sessions: QueuedSessionsResult | undefined;
  const hasSessions = shard.metrics.some((metric) => metric.window.kind === 'session');
  if (hasSessions) {
    sessions = await applyQueuedSessions(
      trx,
      pipeline,
      { topic: shard.topic, shard: shard.shard },
      options.metrics,
      options.watermarks,
    );
    if (sessions) options.onSessions?.(sessions);
  }
  const windows = await emitShard(trx, pipeline, shard);
  const sessionsHeld = sessions === undefined && hasSessions;
  return {
    emitted: (windows ?? 0) + (sessions?.sessions ?? 0),
    more: sessions?.more ?? false,
    held: windows === undefined || sessionsHeld,
  };
}
