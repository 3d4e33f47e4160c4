import type { Knex } from 'knex';
import type { LsnReference } from './plausibility';
import type { CommitMark } from './row-knowledge';

// Where each partition of a pipeline stands, stored in ops.consumer_offsets and written in the
// batch's own transaction: the next offset, the event time reached, the LSN accepted, and the
// gaps Kafka left. The stored position is the truth; Kafka's committed offsets only show lag.

/** The stored position of one partition: the next offset to read and the event time reached. */
export interface PartitionPosition {
  nextOffset: bigint;
  /**
   * Where the pipeline began reading the partition: the changelog's rows of the partition from
   * there to the next offset are the changes it read (`row-knowledge.ts`).
   */
  firstOffset: bigint;
  /**
   * The latest change the pipeline applied from the partition (commit time, then LSN); undefined
   * while it has applied none. An insert sorting after it cannot have been applied before.
   */
  commitMark: CommitMark | undefined;
  /**
   * The earliest source commit time of a change the pipeline applied from the partition since
   * it reads its history from the changelog; undefined while it has applied none.
   */
  earliestCommitMs: number | undefined;
  maxEventTimeMs: number | undefined;
  /** The highest LSN accepted on the partition, against which the next ones are judged. */
  lsnReference?: LsnReference | undefined;
}

const POSITION_COLUMNS = [
  'next_offset',
  'max_event_time_ms',
  'max_lsn',
  'max_lsn_committed_at_ms',
  'first_offset',
  'max_committed_at_ms',
  'max_committed_lsn',
  'min_committed_at_ms',
] as const;

function positionOf(row: Record<(typeof POSITION_COLUMNS)[number], unknown>): PartitionPosition {
  return {
    nextOffset: BigInt(row.next_offset as string),
    firstOffset: BigInt(row.first_offset as string),
    commitMark:
      row.max_committed_at_ms === null
        ? undefined
        : {
            committedAtMs: Number(row.max_committed_at_ms),
            lsn: row.max_committed_lsn === null ? null : Number(row.max_committed_lsn),
          },
    earliestCommitMs:
      row.min_committed_at_ms === null ? undefined : Number(row.min_committed_at_ms),
    maxEventTimeMs: row.max_event_time_ms === null ? undefined : Number(row.max_event_time_ms),
    lsnReference:
      row.max_lsn === null
        ? undefined
        : { lsn: Number(row.max_lsn), committedAtMs: Number(row.max_lsn_committed_at_ms) },
  };
}

/** Locks and reads a partition's stored position; undefined when the pipeline never stored one. */
export async function lockPosition(
  trx: Knex.Transaction,
  pipeline: string,
  topic: string,
  partition: number,
): Promise<PartitionPosition | undefined> {
  const row = await trx('ops.consumer_offsets')
    .where({ group_id: pipeline, topic, partition })
    .forUpdate()
    .first(...POSITION_COLUMNS);
  return row ? positionOf(row) : undefined;
}

/** Every stored position of a pipeline's partitions of some topics. */
export async function readPositions(
  db: Knex,
  pipeline: string,
  topics: readonly string[],
): Promise<Map<string, PartitionPosition>> {
  const rows = await db('ops.consumer_offsets')
    .where({ group_id: pipeline })
    .whereIn('topic', [...topics])
    .select('topic', 'partition', ...POSITION_COLUMNS);
  return new Map(rows.map((row) => [`${row.topic}/${row.partition}`, positionOf(row)]));
}

/** A partition's first position, before the pipeline has read anything from it. */
export interface PinnedPosition {
  topic: string;
  partition: number;
  nextOffset: bigint;
}

/** Stores first positions of partitions; a position already stored is kept as it is. */
export async function pinPositions(
  trx: Knex.Transaction,
  pipeline: string,
  positions: readonly PinnedPosition[],
): Promise<void> {
  if (positions.length === 0) return;
  await trx('ops.consumer_offsets')
    .insert(
      positions.map(({ topic, partition, nextOffset }) => ({
        group_id: pipeline,
        topic,
        partition,
        next_offset: nextOffset.toString(),
        first_offset: nextOffset.toString(),
      })),
    )
    .onConflict(['group_id', 'topic', 'partition'])
    .ignore();
}

/** Stores a partition's next offset and event time reached, in the batch's transaction. */
export async function storePosition(
  trx: Knex.Transaction,
  pipeline: string,
  topic: string,
  partition: number,
  position: PartitionPosition,
): Promise<void> {
  await trx('ops.consumer_offsets')
    .insert({
      group_id: pipeline,
      topic,
      partition,
      next_offset: position.nextOffset.toString(),
      max_event_time_ms: position.maxEventTimeMs ?? null,
      max_lsn: position.lsnReference?.lsn ?? null,
      max_lsn_committed_at_ms: position.lsnReference?.committedAtMs ?? null,
      first_offset: position.firstOffset.toString(),
      max_committed_at_ms: position.commitMark?.committedAtMs ?? null,
      max_committed_lsn: position.commitMark?.lsn ?? null,
      min_committed_at_ms: position.earliestCommitMs ?? null,
      updated_at: trx.fn.now(),
    })
    .onConflict(['group_id', 'topic', 'partition'])
    .merge([
      'next_offset',
      'max_event_time_ms',
      'max_lsn',
      'max_lsn_committed_at_ms',
      'max_committed_at_ms',
      'max_committed_lsn',
      'min_committed_at_ms',
      'updated_at',
    ]);
}

/** Offsets of a partition that Kafka deleted before the pipeline read them. */
export interface StreamGap {
  topic: string;
  partition: number;
  /** The stored next offset: the first change never read. */
  missingFrom: bigint;
  /** The earliest offset Kafka still has: where reading goes on. */
  missingUntil: bigint;
}

/**
 * Records a gap and moves the partition's stored position past it, in one transaction, and
 * gives the position it replaced; undefined (and nothing written) when the stored position is
 * no longer the gap's start, because another consumer of the pipeline already recorded it.
 */
export async function recordGap(
  trx: Knex.Transaction,
  pipeline: string,
  gap: StreamGap,
): Promise<PartitionPosition | undefined> {
  const stored = await lockPosition(trx, pipeline, gap.topic, gap.partition);
  if (stored?.nextOffset !== gap.missingFrom) return undefined;
  await trx('ops.stream_gaps').insert({
    pipeline,
    topic: gap.topic,
    partition: gap.partition,
    missing_from: gap.missingFrom.toString(),
    missing_until: gap.missingUntil.toString(),
    max_event_time_ms: stored.maxEventTimeMs ?? null,
  });
  await storePosition(trx, pipeline, gap.topic, gap.partition, {
    ...stored,
    nextOffset: gap.missingUntil,
  });
  return stored;
}
