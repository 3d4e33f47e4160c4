import type { Knex } from 'knex';
import { chunks } from './sql-batches';
import type { LateContribution } from './windowing/plan';

/**
 * Writes contributions the stream could not apply (to windows already closed, or rows whose
 * prior image is gone) to ops.late_events, idempotently: the audit explains differences with them.
 */
export async function writeLateContributions(
  trx: Knex.Transaction,
  pipeline: string,
  late: readonly LateContribution[],
) {
  const lateRows = late.map((entry) => ({
    pipeline,
    metric: entry.metric,
    window_start: entry.window ? new Date(entry.window.startMs) : null,
    window_end: entry.window ? new Date(entry.window.endMs) : null,
    group_key: entry.groupKey,
    key_values: entry.keyValues === null ? null : JSON.stringify(entry.keyValues),
    source_table: entry.table,
    primary_key: entry.primaryKey,
    lsn: entry.lsn,
    op: entry.op,
    sign: entry.sign,
    event_time: entry.eventTimeMs === null ? null : new Date(entry.eventTimeMs),
    measure: JSON.stringify(entry.measure),
    reason: entry.reason,
    watermark: entry.watermarkMs === null ? null : new Date(entry.watermarkMs),
  }));
  for (const chunk of chunks(lateRows, 2_000)) {
    await trx('ops.late_events').insert(chunk).onConflict().ignore();
  }
}
