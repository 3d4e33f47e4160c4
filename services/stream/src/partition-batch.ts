import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { contentsFrom, type BatchMessage, type DecodedMessage } from './batch-decoding';
import type { DeadLetter } from './landing';
import { writeLandingBatch, type LandingResult } from './landing-sink';
import { applyChanges, type MetricsWriteResult } from './metrics-sink';
import { lockPosition, storePosition, type PartitionPosition } from './positions';
import { earlierCommit, laterMark } from './row-knowledge';
import { configureStreamTransaction } from './stream-transaction';
import type { BatchSource } from './window-store';
import type { BatchPlan, KeyedChange } from './windowing/plan';

/** A partition's batch as fetched and decoded, and what applying it needs. */
export interface PartitionBatch {
  pipeline: string;
  topic: string;
  partition: number;
  messages: readonly BatchMessage[];
  /** The messages decoded, one per message (a message the warehouse refused turns dead letter). */
  decoded: readonly DecodedMessage[];
  /** The event time the partition reached, for when the warehouse stores none yet. */
  maxEventTimeMs: number | undefined;
  /** The partition's LSN horizon after decoding, stored with its position. */
  lsnReference: PartitionPosition['lsnReference'];
  metricsOf(table: string): readonly MetricDefinition[];
  watermarks: ReadonlyMap<string, number | null>;
  source: BatchSource;
}

/** What one transaction of a partition's batch found and did. */
export type PartitionBatchOutcome =
  /** The batch starts past the stored offset: messages between them were never read. */
  | { kind: 'gap'; expected: bigint }
  /** Every message is below the stored offset: applied before. */
  | { kind: 'seen'; expected: bigint | undefined }
  | {
      kind: 'applied';
      changes: KeyedChange[];
      messages: BatchMessage[];
      plan: BatchPlan;
      landing: LandingResult;
      written: MetricsWriteResult;
      maxEventTimeMs: number | undefined;
      deadLetters: DeadLetter[];
    };

/**
 * Applies a partition batch's first `count` messages in the caller's transaction, exactly once:
 * it locks the partition's stored position, skips what is below it (or reports a gap), lands
 * the changes and dead letters in the raw changelog, stores the next position, and applies the
 * changes to every metric (`metrics-sink.ts`). A crash before the commit loses all of it and the
 * batch is read again; after the commit, the stored offset skips it.
 */
export async function applyPartitionBatch(
  trx: Knex.Transaction,
  batch: PartitionBatch,
  count: number,
): Promise<PartitionBatchOutcome> {
  const { pipeline, topic, partition } = batch;
  await configureStreamTransaction(trx);
  const stored = await lockPosition(trx, pipeline, topic, partition);
  const expected = stored?.nextOffset;
  const first = batch.messages[0];
  if (expected !== undefined && first && BigInt(first.offset) > expected) {
    return { kind: 'gap', expected };
  }
  const messages = batch.messages
    .slice(0, count)
    .filter((message) => expected === undefined || BigInt(message.offset) >= expected);
  const lastApplied = messages.at(-1);
  if (!lastApplied) return { kind: 'seen', expected };

  const { changes, landed, deadLetters, maxEventTimeMs } = contentsFrom(
    batch.decoded.slice(0, count),
    expected,
    stored?.maxEventTimeMs ?? batch.maxEventTimeMs,
  );
  const landing = await writeLandingBatch(trx, landed, deadLetters);
  const batchOffset = BigInt((messages[0] as BatchMessage).offset);
  await storePosition(trx, pipeline, topic, partition, {
    nextOffset: BigInt(lastApplied.offset) + 1n,
    firstOffset: stored?.firstOffset ?? batchOffset,
    commitMark: laterMark(changes, stored?.commitMark),
    earliestCommitMs: earlierCommit(changes, stored?.earliestCommitMs),
    maxEventTimeMs,
    lsnReference: batch.lsnReference,
  });
  const written = await applyChanges(
    trx,
    pipeline,
    changes,
    batch.metricsOf,
    batch.watermarks,
    batch.source,
    {
      batchOffset,
      commitMark: stored?.commitMark,
      alreadyLanded: landing.alreadyLanded,
    },
  );
  return {
    kind: 'applied',
    changes,
    messages,
    plan: written.plan,
    landing,
    written,
    maxEventTimeMs,
    deadLetters,
  };
}
