import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { asKnexColumns, emissionOfNewRow, emissionOfUpdatedRow } from './emission';
import { chunks, compareTuples, groupedByMetric } from './sql-batches';
import type { BatchPlan } from './windowing/plan';

/**
 * Merges the window deltas into the stored accumulators: one statement per metric, in metric
 * and key order, so every consumer locks shared rows in the same order; `on_update` values are
 * emitted by the very statement that merges them.
 */
export async function mergeWindowDeltas(
  trx: Knex.Transaction,
  pipeline: string,
  plan: BatchPlan,
): Promise<number> {
  const windowRows = plan.windowDeltas
    .map((delta) => ({
      metric: delta.metric,
      row: {
        pipeline,
        metric: delta.metric.name,
        window_start: new Date(delta.window.startMs),
        window_end: new Date(delta.window.endMs),
        group_key: delta.groupKey,
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
  for (const rows of groupedByMetric(windowRows)) {
    const metric = rows[0]?.metric as MetricDefinition;
    const merged =
      'stream.merge_accumulator(provisional.metric_values.accumulator, excluded.accumulator)';
    const updated = emissionOfUpdatedRow(
      metric,
      { sql: merged, bindings: [] },
      'provisional.metric_values.revision',
    );
    for (const chunk of chunks(rows, 2_000)) {
      await trx('provisional.metric_values')
        .insert(
          chunk.map(({ row }) => ({
            ...row,
            ...asKnexColumns(
              trx,
              emissionOfNewRow(metric, { sql: '?::jsonb', bindings: [row.accumulator] }),
            ),
          })),
        )
        .onConflict(['pipeline', 'metric', 'window_start', 'window_end', 'group_key'])
        .merge({
          accumulator: trx.raw(merged),
          last_committed_at: trx.raw(
            'GREATEST(provisional.metric_values.last_committed_at, excluded.last_committed_at)',
          ),
          ...asKnexColumns(trx, updated),
          updated_at: trx.raw('clock_timestamp()'),
        });
    }
  }
  return windowRows.length;
}
