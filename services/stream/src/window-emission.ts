import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { asKnexColumns, closingBoundary, emissionOfPending, pendingDue } from './emission';

/** The stored watermarks of a pipeline's metrics. */
export async function readWatermarks(db: Knex, pipeline: string): Promise<Map<string, number>> {
  const rows = await db('stream.watermarks').where({ pipeline }).select('metric', 'watermark');
  return new Map(rows.map((row) => [row.metric as string, new Date(row.watermark).getTime()]));
}

/**
 * Advances the stored watermarks, then applies each metric's emit policy: pending values are
 * emitted (value computed from the accumulator, revision + 1) on every update, when an
 * `every` interval is due, or once their window has ended under the watermark; windows past
 * their allowed lateness are closed, after a last emission of anything pending. With
 * `ownedShards`, only the rows of the emission shards this consumer owns (rows without a shard
 * go with shard 0, whose owner also stores the metric's watermark): no row is written by two
 * consumers' ticks. Without it, every row (one consumer).
 */
export async function emitAndClose(
  trx: Knex.Transaction,
  pipeline: string,
  metrics: readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  intervalDue: (metric: MetricDefinition) => boolean,
  ownedShards?: (metric: MetricDefinition) => readonly number[],
): Promise<{ emitted: number; closed: number }> {
  let emitted = 0;
  let closed = 0;
  for (const metric of metrics) {
    const shards = ownedShards?.(metric);
    const ownsFirst = shards === undefined || shards.includes(0);
    const mine = (query: Knex.QueryBuilder) =>
      shards === undefined
        ? query
        : query.andWhere((owned) => {
            void owned.whereIn('shard', [...shards]);
            if (ownsFirst) void owned.orWhereNull('shard');
          });
    const watermarkMs = watermarks.get(metric.name) ?? null;
    if (watermarkMs !== null && ownsFirst) {
      await trx('stream.watermarks')
        .insert({ pipeline, metric: metric.name, watermark: new Date(watermarkMs) })
        .onConflict(['pipeline', 'metric'])
        .merge({
          watermark: trx.raw('GREATEST(stream.watermarks.watermark, excluded.watermark)'),
          updated_at: trx.raw('clock_timestamp()'),
        });
    }
    const due = pendingDue(metric, watermarkMs, intervalDue(metric));
    if (due.kind !== 'none') {
      const pending = mine(
        trx('provisional.metric_values').where({ pipeline, metric: metric.name, pending: true }),
      );
      if (due.kind === 'ended_by') pending.andWhere('window_end', '<=', new Date(due.endMs));
      emitted += await pending.update(asKnexColumns(trx, emissionOfPending(metric)));
    }
    const closing = closingBoundary(metric, watermarkMs);
    if (closing !== null) {
      closed += await mine(
        trx('provisional.metric_values').where({ pipeline, metric: metric.name, status: 'open' }),
      )
        .andWhere('window_end', '<=', new Date(closing))
        .update({ status: 'closed' });
    }
  }
  return { emitted, closed };
}
