import type { ContractOf, MetricDefinition } from '@tidemark/contracts';
import type { Logger } from '@tidemark/runtime';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { commitDaysOfBatch, deadLetterOf, decodeBatch } from './batch-decoding';
import type { ChangelogPartitions } from './changelog-partitions';
import type { DeadLetterPublisher } from './dead-letter-topic';
import type { EmissionScheduler } from './emission-scheduler';
import { readHeartbeats } from './heartbeats';
import type { IntakePause } from './intake-pause';
import { nextRead } from './next-read';
import { applyPartitionBatch, type PartitionBatch } from './partition-batch';
import type { PartitionClocks } from './partition-clocks';
import type { BatchStats, EmittedStats } from './pipeline-options';
import type { PlausibleTimes } from './plausibility';
import { recordGap, type StreamGap } from './positions';
import type { SessionQueueWatch } from './session-reporting';
import type { ShardOwnership } from './shard-ownership';
import { applyRejectingRefused, describeSinkError } from './sink-rejection';
import { earliestOffsetOf } from './topic-offsets';
import type { MetricWatermarks } from './windowing/watermark';

// One fetched batch of one partition, from its messages to its stored position: decoded, applied
// in one warehouse transaction (messages the warehouse refuses become dead letters), then where
// the partition is read next, the emission of the windows it changed, the intake's pause, the
// partition's clock, and Kafka's committed offset.

export interface BatchRunnerDeps {
  pipeline: string;
  kafka: Kafka;
  consumer: Pick<Consumer, 'seek' | 'commitOffsets'>;
  /** Where dead letters are also published, when the pipeline has a DLQ topic. */
  deadLetters?: DeadLetterPublisher;
  heartbeatTopic?: string;
  /** Each change topic's source table. */
  tableOfTopic: ReadonlyMap<string, string>;
  metricsOf(table: string): readonly MetricDefinition[];
  eventTime: MetricWatermarks;
  clocks: PartitionClocks;
  /** Settles once the consumer's current assignment is set up. */
  assignment(): Promise<void>;
  ownership: ShardOwnership;
  changelogPartitions: ChangelogPartitions;
  contractOf: ContractOf;
  plausibleTimes: PlausibleTimes;
  maxMessageBytes: number;
  inTransaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  windowLane: EmissionScheduler;
  sessionLane: EmissionScheduler;
  intakePause: IntakePause;
  sessionQueue: SessionQueueWatch;
  logger: Logger;
  now: () => number;
  onBatch?: (stats: BatchStats) => void;
  onEmitted?: (stats: EmittedStats) => void;
  onGap?: (gap: StreamGap) => void;
}

/** Thrown to roll back a transaction that only tries a batch's prefix. */
const ROLLBACK = new Error('rolled back: only trying whether the warehouse takes these changes');

export class BatchRunner {
  constructor(private readonly deps: BatchRunnerDeps) {}

  /** kafkajs's eachBatch. */
  async run(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    if (batch.topic === this.deps.heartbeatTopic) return this.runHeartbeats(payload);
    if (!this.deps.tableOfTopic.has(batch.topic)) return;
    return this.runChanges(payload);
  }

  /** A heartbeat is only the source's clock: one that cannot be true is not believed. */
  private async runHeartbeats(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset } = payload;
    const { eventTime, plausibleTimes, logger, now } = this.deps;
    const readings = readHeartbeats(batch.messages, plausibleTimes, now());
    for (const { offset, tsMs } of readings.refused) {
      logger.warn('ignoring a heartbeat whose time is outside the plausible span', {
        topic: batch.topic,
        partition: batch.partition,
        offset,
        tsMs,
      });
    }
    for (const committedAtMs of readings.times) eventTime.observeSourceClock(committedAtMs);
    resolveOffset((batch.messages.at(-1) as { offset: string }).offset);
    await payload.commitOffsetsIfNecessary();
  }

  private async runChanges(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const { deps } = this;
    const { logger, now } = deps;
    const table = deps.tableOfTopic.get(batch.topic) as string;
    const last = batch.messages.at(-1) as (typeof batch.messages)[number];
    await deps.assignment();
    const clock = deps.clocks.clockOf(batch.topic);
    const startedAt = now();

    const lsnHorizon = deps.clocks.lsnHorizonOf(batch.topic, batch.partition);
    const decoded = decodeBatch(batch.topic, batch.partition, batch.messages, {
      table,
      contractOf: deps.contractOf,
      lsnHorizon,
      plausibleTimes: deps.plausibleTimes,
      maxMessageBytes: deps.maxMessageBytes,
      nowMs: startedAt,
    });
    await deps.changelogPartitions.ensure(commitDaysOfBatch(decoded));
    const partitionBatch: PartitionBatch = {
      pipeline: deps.pipeline,
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages,
      decoded,
      maxEventTimeMs: clock.maxEventTimeOf(batch.partition),
      lsnReference: lsnHorizon.current(),
      metricsOf: deps.metricsOf,
      watermarks: deps.eventTime.current,
      source: deps.ownership.batchSource(batch.topic, batch.partition),
    };
    /** Applies the batch's first `count` messages in one transaction; `rollback` only tries. */
    const applyBatch = (count: number, rollback = false) =>
      deps.inTransaction(async (trx) => {
        const outcome = await applyPartitionBatch(trx, partitionBatch, count);
        if (rollback) throw ROLLBACK;
        return outcome;
      });
    const outcome = await applyRejectingRefused({
      length: batch.messages.length,
      apply: (count) => applyBatch(count),
      tryPrefix: (count) =>
        applyBatch(count, true).then(
          () => undefined,
          (failure: unknown) => (failure === ROLLBACK ? undefined : failure),
        ),
      reject: (index, error) => {
        const message = batch.messages[index] as (typeof batch.messages)[number];
        const why = describeSinkError(error);
        logger.error('the warehouse refused a message: dead-lettered as SINK_REJECTED', {
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          error: why,
        });
        const { offset, timestamp, value } = message;
        const position = { topic: batch.topic, partition: batch.partition, offset, timestamp };
        decoded[index] = deadLetterOf(
          BigInt(offset),
          position,
          value,
          'SINK_REJECTED',
          '$',
          `the warehouse refused to store it: ${why}`,
        );
      },
    });

    const lastOffset = BigInt(last.offset);
    const earliest =
      outcome.kind === 'gap'
        ? await earliestOffsetOf(deps.kafka, batch.topic, batch.partition)
        : undefined;
    const next = nextRead(outcome, lastOffset, earliest);
    if (next.kind === 'skip_deleted') {
      const { missingFrom, missingUntil } = next;
      await this.skipDeletedOffsets({
        topic: batch.topic,
        partition: batch.partition,
        missingFrom,
        missingUntil,
      });
      return;
    }
    if (next.kind === 'seek') {
      const offset = next.offset.toString();
      logger[next.level](next.why, {
        topic: batch.topic,
        partition: batch.partition,
        from: batch.messages[0]?.offset,
        offset,
      });
      deps.consumer.seek({ topic: batch.topic, partition: batch.partition, offset });
      return;
    }
    const committedAt = now();
    if (outcome.kind === 'applied') {
      if (outcome.maxEventTimeMs !== undefined) {
        clock.observeEvent(batch.partition, outcome.maxEventTimeMs, committedAt);
      }
      await deps.deadLetters?.enqueue(outcome.deadLetters);
      // The windows the batch changed, in the shards this consumer emits, are emitted now; the
      // others by their shards' consumers (after their own batches, or at their next tick).
      const { changes, written } = outcome;
      const onEmitted = deps.onEmitted;
      deps.sessionLane.request(new Map([[batch.topic, written.sessionShards]]));
      deps.windowLane.request(
        new Map([[batch.topic, written.windowShards]]),
        onEmitted && written.windowShards.size > 0
          ? (emittedAtMs) =>
              onEmitted({
                topic: batch.topic,
                partition: batch.partition,
                committedAtMs: changes.map((change) => change.event.source.committedAtMs),
                appliedAtMs: committedAt,
                emittedAtMs,
              })
          : undefined,
      );
    }
    const pausedMs =
      outcome.kind === 'applied'
        ? deps.intakePause.afterBatch(
            batch.topic,
            batch.partition,
            committedAt - startedAt,
            deps.sessionQueue.behind,
          )
        : 0;
    const lagMessages = Number(BigInt(batch.highWatermark) - lastOffset - 1n);
    clock.observePosition(batch.partition, lagMessages <= 0, committedAt);
    deps.eventTime.advance(now());
    resolveOffset(last.offset);
    // Kafka's committed offsets only show lag; the warehouse's stored offsets are the truth.
    await deps.consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (lastOffset + 1n).toString() },
    ]);
    await heartbeat();
    if (outcome.kind !== 'applied') return;
    const stats: BatchStats = {
      topic: batch.topic,
      partition: batch.partition,
      messages: outcome.messages.length,
      applied: outcome.plan.applied,
      duplicates: outcome.plan.duplicates,
      late: outcome.plan.late.length,
      deadLettered: outcome.landing.deadLettered,
      windows: outcome.written.windows,
      sinkMs: committedAt - startedAt,
      pausedMs,
      lagMessages,
    };
    deps.onBatch?.(stats);
    logger.debug('batch applied', { ...stats });
    if (stats.late > 0 || stats.deadLettered > 0) {
      logger.warn('late or dead-lettered changes', {
        topic: batch.topic,
        partition: batch.partition,
        late: stats.late,
        deadLettered: stats.deadLettered,
      });
    }
  }

  /**
   * The stored offset is one Kafka no longer has (retention deleted it while the pipeline was
   * behind or down): those changes can never be read. Seeking back to it would loop forever, so
   * the gap is recorded in ops.stream_gaps (with the event time the partition had reached),
   * reading goes on from Kafka's earliest offset, and the error says so.
   */
  private async skipDeletedOffsets(gap: StreamGap): Promise<void> {
    const { deps } = this;
    const replaced = await deps.inTransaction((trx) => recordGap(trx, deps.pipeline, gap));
    if (replaced) {
      deps.logger.error(
        'Kafka deleted changes this pipeline never read: recorded in ops.stream_gaps; ' +
          'a backfill from the event time reached before the gap makes the numbers whole',
        {
          topic: gap.topic,
          partition: gap.partition,
          missingFrom: gap.missingFrom.toString(),
          missingUntil: gap.missingUntil.toString(),
          messages: (gap.missingUntil - gap.missingFrom).toString(),
          eventTimeReached:
            replaced.maxEventTimeMs === undefined
              ? null
              : new Date(replaced.maxEventTimeMs).toISOString(),
        },
      );
      deps.onGap?.(gap);
    }
    deps.consumer.seek({
      topic: gap.topic,
      partition: gap.partition,
      offset: gap.missingUntil.toString(),
    });
  }
}
