import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { shardOf } from './shards';
import { chunks, compareTuples } from './sql-batches';
import type { BatchPlan } from './windowing/plan';

/** The partition a batch came from, and how many emission shards each metric's windows have. */
export interface BatchSource {
  topic: string;
  partition: number;
  /** A metric's emission shards: the partitions of its source topic. */
  shardsOf(metric: MetricDefinition): number;
}

/**
 * Merges a batch's window deltas into its partition's own partial accumulators
 * (`stream.window_partials`, written by this partition's consumer alone), and queues each window
 * it changed for the emitter of the window's shard (`stream.dirty_windows`). Nothing here is
 * written by another partition's transaction, so batches of different partitions never wait for
 * each other; `window-emitter.ts` merges the partials into the provisional values.
 */
export async function writeWindowPartials(
  trx: Knex.Transaction,
  pipeline: string,
  source: BatchSource,
  plan: BatchPlan,
): Promise<{ windows: number; shards: Set<number> }> {
  const rows = plan.windowDeltas
    .map((delta) => ({
      shard: shardOf(delta.metric.name, delta.groupKey, source.shardsOf(delta.metric)),
      row: {
        pipeline,
        metric: delta.metric.name,
        window_start: new Date(delta.window.startMs),
        window_end: new Date(delta.window.endMs),
        group_key: delta.groupKey,
        topic: source.topic,
        partition: source.partition,
        key_values: JSON.stringify(delta.keyValues),
        accumulator: JSON.stringify(delta.delta),
        last_committed_at: new Date(delta.lastCommittedAtMs),
      },
    }))
    .sort(
      (a, b) =>
        compareTuples([a.row.metric, a.row.group_key], [b.row.metric, b.row.group_key]) ||
        a.row.window_start.getTime() - b.row.window_start.getTime(),
    );
  for (const chunk of chunks(rows, 2_000)) {
    await trx('stream.window_partials')
      .insert(chunk.map(({ row }) => row))
      .onConflict([
        'pipeline',
        'metric',
        'window_start',
        'window_end',
        'group_key',
        'topic',
        'partition',
      ])
      .merge({
        accumulator: trx.raw(
          'stream.merge_accumulator(stream.window_partials.accumulator, excluded.accumulator)',
        ),
        last_committed_at: trx.raw(
          'GREATEST(stream.window_partials.last_committed_at, excluded.last_committed_at)',
        ),
      });
    await trx('stream.dirty_windows').insert(
      chunk.map(({ shard, row }) => ({
        pipeline,
        metric: row.metric,
        shard,
        window_start: row.window_start,
        window_end: row.window_end,
        group_key: row.group_key,
      })),
    );
  }
  return { windows: rows.length, shards: new Set(rows.map(({ shard }) => shard)) };
}
