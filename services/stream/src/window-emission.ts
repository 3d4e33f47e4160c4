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
 * their allowed lateness are closed, after a last emission of anything pending.
 */
export async function emitAndClose(
  trx: Knex.Transaction,
  pipeline: string,
  metrics: readonly MetricDefinition[],
  watermarks: ReadonlyMap<string, number | null>,
  intervalDue: (metric: MetricDefinition) => boolean,
): Promise<{ emitted: number; closed: number }> {
  let emitted = 0;
  let closed = 0;
  for (const metric of metrics) {
    const watermarkMs = watermarks.get(metric.name) ?? null;
    if (watermarkMs !== null) {
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
      const pending = trx('provisional.metric_values').where({
        pipeline,
        metric: metric.name,
        pending: true,
      });
      if (due.kind === 'ended_by') pending.andWhere('window_end', '<=', new Date(due.endMs));
      emitted += await pending.update(asKnexColumns(trx, emissionOfPending(metric)));
    }
    const closing = closingBoundary(metric, watermarkMs);
    if (closing !== null) {
      closed += await trx('provisional.metric_values')
        .where({ pipeline, metric: metric.name, status: 'open' })
        .andWhere('window_end', '<=', new Date(closing))
        .update({ status: 'closed' });
    }
  }
  return { emitted, closed };
}
