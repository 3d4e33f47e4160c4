import type { Knex } from 'knex';
import type { StreamGapRow } from './warehouse-tables';

/** A stretch of a partition that Kafka deleted before the pipeline read it (ops.stream_gaps). */
export interface RecordedGap {
  id: number;
  pipeline: string;
  topic: string;
  partition: number;
  /** The offsets [missingFrom, missingUntil) the pipeline never read. */
  missingFrom: bigint;
  missingUntil: bigint;
  /** The event time the partition had reached before the gap; null when it had read nothing. */
  reachedEventTime: Date | null;
  detectedAt: Date;
}

/** The recorded gaps, newest first; of one pipeline when given. */
export async function listStreamGaps(
  db: Knex,
  query: { pipeline?: string; limit?: number } = {},
): Promise<RecordedGap[]> {
  const rows = await db('ops.stream_gaps')
    .modify((builder) => {
      if (query.pipeline !== undefined) builder.where({ pipeline: query.pipeline });
    })
    .orderBy([
      { column: 'detected_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(query.limit ?? 1_000)
    .select<StreamGapRow[]>('*');
  return rows.map((row) => ({
    id: Number(row.id),
    pipeline: row.pipeline,
    topic: row.topic,
    partition: row.partition,
    missingFrom: BigInt(row.missing_from),
    missingUntil: BigInt(row.missing_until),
    reachedEventTime:
      row.max_event_time_ms === null ? null : new Date(Number(row.max_event_time_ms)),
    detectedAt: new Date(row.detected_at),
  }));
}
