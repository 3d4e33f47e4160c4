import { DEFAULT_MAX_MESSAGE_BYTES, type MetricDefinition } from '@tidemark/contracts';
import type { Logger } from '@tidemark/runtime';
import {
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Producer,
} from 'kafkajs';
import type { Knex } from 'knex';
import { SinkBackpressure } from './backpressure';
import { withConflictRetry } from './transaction-retry';
import { contentsFrom, deadLetterOf, decodeBatch } from './batch-decoding';
import {
  DEFAULT_PLAUSIBLE_TIMES,
  isPlausibleTime,
  LsnHorizon,
  type PlausibleTimes,
} from './plausibility';
import { applyRejectingRefused, describeSinkError } from './sink-rejection';
import { publishDeadLetters } from './dead-letter-topic';
import { applyPartitionBatch, type PartitionBatch } from './partition-batch';
import { applySessionShards, emitWindowShards } from './shard-emission';
import { earliestOffsetOf, firstPositionsOf, withAdmin } from './topic-offsets';
import { ShardOwnership } from './shard-ownership';
import { EmissionScheduler, type EmissionSchedulerDeps } from './emission-scheduler';
import { pinPositions, readPositions, recordGap, type StreamGap } from './positions';
import { watermarksToEmit, type QueuedSessionsResult } from './session-store';
import { emitAndClose, readWatermarks } from './window-emission';
import { MetricWatermarks, type EventClock } from './windowing/watermark';

export interface StreamPipelineOptions {
  kafka: Kafka;
  warehouse: Knex;
  logger: Logger;
  /** The consumer group, and the key of everything this pipeline derives in the warehouse. */
  pipeline: string;
  /** Change topic per captured table, e.g. `shop.orders` -> `tidemark.shop.orders`. */
  topics: ReadonlyMap<string, string>;
  /** The Debezium heartbeat topic: the source database's clock when changes stop. */
  heartbeatTopic?: string;
  /** Where a DLQ message is also published (the warehouse table holds every dead letter). */
  deadLetterTopic?: string;
  metrics: readonly MetricDefinition[];
  /** Where a pipeline with no stored position starts: the topics' beginning or their end. */
  startAt: 'earliest' | 'latest';
  /** A partition read to its end and quiet this long stops holding the watermark back. */
  idleTimeoutMs?: number;
  /** How often watermarks advance and due values are emitted without new events. */
  tickMs?: number;
  sessionTimeoutMs?: number;
  /** A batch's warehouse transaction should take at most this long on average (default 2 s). */
  sinkBudgetMs?: number;
  /**
   * Partitions whose batches are applied at the same time (default 8: the shop's 6 change
   * partitions and the heartbeat's fit). A fetch's batches are all applied before the next
   * fetch, so partitions left waiting for a turn add a whole transaction to their latency.
   */
  concurrency?: number;
  /** Bytes fetched per partition at once: bounds the work in flight (default 4 MiB). */
  maxBytesPerPartition?: number;
  /** Messages larger than this are dead letters, not parsed (default 1 MiB). */
  maxMessageBytes?: number;
  /** The span a change's times must fall in; outside it, a change is a dead letter. */
  plausibleTimes?: PlausibleTimes;
  now?: () => number;
  /** Called after each committed batch, for metrics and tests. */
  onBatch?: (stats: BatchStats) => void;
  /**
   * Called once the provisional values a batch changed are emitted (for end-to-end latency):
   * when this consumer emits every shard the batch changed; not called for a batch whose
   * windows another consumer emits, nor for one that changed no window.
   */
  onEmitted?: (stats: EmittedStats) => void;
  /** Called after each transaction that applied queued session contributions. */
  onSessions?: (stats: SessionStats) => void;
  /** Called each tick with the session queue's depth, whichever consumer applies it. */
  onSessionQueue?: (queue: SessionQueueStats) => void;
  /** Called when the pipeline recorded offsets Kafka deleted before it read them. */
  onGap?: (gap: StreamGap) => void;
}

/** The session queue of a pipeline: batches whose session contributions wait to be applied. */
export interface SessionQueueStats {
  batches: number;
  /** How long the oldest of them has waited (0 when none). */
  oldestWaitMs: number;
}

/** What one application of queued session contributions did. */
export interface SessionStats {
  /** Queued batches applied, their contributions, and the session keys they changed. */
  batches: number;
  inputs: number;
  sessions: number;
  /** Contributions later than the allowed lateness (in the late ledger), by change topic. */
  lateByTopic: Map<string, number>;
}

/** What one committed batch did. */
export interface BatchStats {
  topic: string;
  partition: number;
  messages: number;
  applied: number;
  duplicates: number;
  late: number;
  deadLettered: number;
  windows: number;
  sinkMs: number;
  /** How long the partition was paused after this batch because the sink is behind. */
  pausedMs: number;
  lagMessages: number;
}

/** A batch's changes made visible in the provisional values. */
export interface EmittedStats {
  topic: string;
  partition: number;
  /** Source commit times of the batch's applied changes. */
  committedAtMs: number[];
  /** When the batch's own transaction committed. */
  appliedAtMs: number;
  /** When the emission that made them visible committed. */
  emittedAtMs: number;
}

export interface StreamPipeline {
  pipeline: string;
  /** Resolves once the consumer has joined its group and its partitions' clocks are set up. */
  joined: Promise<void>;
  /** The watermark of each metric now. */
  watermarks(): ReadonlyMap<string, number | null>;
  /** Whether the consumer is consuming now, and why not when it is not. */
  health(): PipelineHealth;
  /**
   * Settles with the error when the consumer stopped for good (kafkajs crashed it and will not
   * restart it): the process should stop and exit non-zero, so a supervisor restarts it.
   */
  failed: Promise<Error>;
  stop(): Promise<void>;
}

/** Whether a pipeline consumes: joined and not crashed. */
export type PipelineHealth = { consuming: true } | { consuming: false; reason: string };

/**
 * A fetch's bound per partition. Larger batches spread each transaction's fixed statements over
 * more changes: 4 MiB (about 4,800 changes) costs PostgreSQL a quarter less CPU per change than
 * 1 MiB did.
 */
export const DEFAULT_MAX_BYTES_PER_PARTITION = 4_194_304;

/**
 * The streaming layer: consumes the Debezium change topics in batches and, per batch, in ONE
 * warehouse transaction, lands the raw changes, updates the provisional values of every fixed
 * window (retractions included), queues the contributions to session windows (applied by the
 * owners of their keys' shards, see applyQueuedSessions), records late contributions and dead
 * letters, and stores the
 * partition's next offset. On start it resumes from the stored offsets, so a crash at any point
 * neither loses nor double-counts a change.
 */
export async function startStreamPipeline(options: StreamPipelineOptions): Promise<StreamPipeline> {
  const { kafka, warehouse, logger, pipeline, metrics } = options;
  const now = options.now ?? Date.now;
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const tableOfTopic = new Map([...options.topics].map(([table, topic]) => [topic, table]));
  const metricsByTable = new Map<string, MetricDefinition[]>();
  for (const metric of metrics) {
    const list = metricsByTable.get(metric.source.table) ?? [];
    list.push(metric);
    metricsByTable.set(metric.source.table, list);
  }
  const metricsOf = (table: string) => metricsByTable.get(table) ?? [];
  const eventTime = new MetricWatermarks(metrics, options.topics.keys(), idleTimeoutMs);
  // Each metric's watermark now, live: the lanes and batches read it as it advances.
  const watermarks = eventTime.current;
  // The first start of a pipeline records since when it observes the changelog: from the
  // beginning of the topics, or from now when it starts at their end with no stored offsets.
  // It pins every partition's first position (its end, or its beginning) as its stored one, in
  // the same transaction: a partition that changes owner before its first batch is then still
  // read from there, not from wherever its end is when the new owner gets it (which would skip
  // changes), and two owners of its first batch wait for each other on the stored position.
  const resumes = await warehouse('ops.consumer_offsets').where({ group_id: pipeline }).first();
  const startsAtEnd = options.startAt === 'latest' && !resumes;
  const firsts = resumes
    ? []
    : await firstPositionsOf(kafka, [...options.topics.values()], options.startAt);
  await warehouse.transaction(async (trx) => {
    await trx('stream.pipelines')
      .insert({ pipeline, observed_from: startsAtEnd ? new Date(now()) : null })
      .onConflict('pipeline')
      .ignore();
    await pinPositions(trx, pipeline, firsts);
  });
  eventTime.restore(await readWatermarks(warehouse, pipeline));
  const lastIntervalEmit = new Map<string, number>();
  const changelogDays = new Set<string>();
  // Batches of different partitions (and the ticks) run their transactions side by side. They
  // lock shared rows in one order, but PostgreSQL may still abort one of them for a deadlock: it
  // did nothing, so it runs again. Every transaction in flight is awaited on stop.
  const inFlight = new Set<Promise<unknown>>();
  const inTransaction = <T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> => {
    const result = withConflictRetry(() => warehouse.transaction(work), {
      onRetry: (error) =>
        logger.warn('transaction conflict, running it again', { error: String(error) }),
    });
    const settled = result.catch(() => undefined);
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return result;
  };

  // The shards this consumer owns are emitted in two lanes, each one transaction at a time:
  // fixed windows (partials merged into provisional values, cheap, what latency is about) and
  // session contributions applied, which never hold the windows up.
  const ownership = new ShardOwnership(options.topics);
  const lane = (emitShards: EmissionSchedulerDeps['emitShards']) =>
    new EmissionScheduler({
      topics: options.topics,
      ownership,
      metricsOf,
      inTransaction,
      emitShards,
      onError: (error) =>
        logger.error('emitting provisional values failed', { error: String(error) }),
    });
  const windowLane = lane((trx, shards) => emitWindowShards(trx, pipeline, shards));
  const sessionLane = lane((trx, shards) =>
    applySessionShards(trx, pipeline, shards, { metrics, watermarks, onSessions: reportSessions }),
  );
  const lanes = [
    { lane: windowLane, metrics: metrics.filter((metric) => metric.window.kind !== 'session') },
    { lane: sessionLane, metrics: metrics.filter((metric) => metric.window.kind === 'session') },
  ].filter((entry) => entry.metrics.length > 0);

  const advanceWatermarks = () => eventTime.advance(now());
  /** A tick's emission of due values and closing of windows, for one lane's metrics. */
  const closeInTransaction = async (trx: Knex.Transaction, laneMetrics: MetricDefinition[]) => {
    const emittedIntervals: string[] = [];
    const held = await watermarksToEmit(trx, pipeline, laneMetrics, watermarks);
    const result = await emitAndClose(
      trx,
      pipeline,
      laneMetrics,
      held,
      (metric) => {
        if (metric.emit.kind !== 'every') return false;
        const due = now() - (lastIntervalEmit.get(metric.name) ?? 0) >= metric.emit.intervalMs;
        if (due) emittedIntervals.push(metric.name);
        return due;
      },
      (metric) => ownership.ownedShards(metric),
    );
    return { ...result, emittedIntervals };
  };

  const maxBytesPerPartition = options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const plausibleTimes = options.plausibleTimes ?? DEFAULT_PLAUSIBLE_TIMES;
  // Each partition's highest accepted LSN, from its stored position when it is assigned.
  const lsnHorizons = new Map<string, LsnHorizon>();
  const lsnHorizonOf = (topic: string, partition: number): LsnHorizon => {
    const key = `${topic}/${partition}`;
    let horizon = lsnHorizons.get(key);
    if (!horizon) {
      horizon = new LsnHorizon(undefined);
      lsnHorizons.set(key, horizon);
    }
    return horizon;
  };
  const consumer: Consumer = kafka.consumer({
    groupId: pipeline,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition,
    maxBytes: 4 * maxBytesPerPartition,
  });
  const backpressure = new SinkBackpressure({
    sinkBudgetMs: options.sinkBudgetMs ?? 2_000,
    maxPauseMs: 10_000,
  });
  const pauseTimers = new Set<NodeJS.Timeout>();
  // Whether the last application of the session queue ran out of time with contributions left
  // that have waited longer than SESSION_QUEUE_MAX_WAIT_MS.
  const sessionQueue = { behind: false };
  let producer: Producer | undefined;
  if (options.deadLetterTopic) {
    producer = kafka.producer({
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
  }

  let markJoined: () => void = () => undefined;
  let failJoin: (error: unknown) => void = () => undefined;
  const joined = new Promise<void>((resolve, reject) => {
    markJoined = resolve;
    failJoin = reject;
  });
  let assignment: Promise<void> = joined;
  let health: PipelineHealth = { consuming: false, reason: 'joining the consumer group' };
  let markFailed: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (markFailed = resolve));
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    health = { consuming: false, reason: `the consumer crashed: ${String(error)}` };
    logger.error(
      restart
        ? 'the consumer crashed; kafkajs restarts it'
        : 'the consumer crashed and will not restart: the pipeline has stopped consuming',
      { error: String(error), restart },
    );
    if (!restart) markFailed(error instanceof Error ? error : new Error(String(error)));
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    health = { consuming: true };
    const assigned = event.payload.memberAssignment as Record<string, number[]>;
    assignment = setUpClocks(assigned).then(markJoined, (error: unknown) => {
      logger.error('could not set up partition clocks', { error: String(error) });
      failJoin(error);
    });
  });

  /**
   * The stored offset is one Kafka no longer has (retention deleted it while the pipeline was
   * behind or down): those changes can never be read. Seeking back to it would loop forever, so
   * the gap is recorded in ops.stream_gaps (with the event time the partition had reached),
   * reading goes on from Kafka's earliest offset, and the error says so.
   */
  async function skipDeletedOffsets(gap: StreamGap): Promise<void> {
    const replaced = await inTransaction((trx) => recordGap(trx, pipeline, gap));
    if (replaced) {
      logger.error(
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
      options.onGap?.(gap);
    }
    consumer.seek({
      topic: gap.topic,
      partition: gap.partition,
      offset: gap.missingUntil.toString(),
    });
  }

  /** Each assigned partition's clock, from its stored event time and whether it has unread data. */
  async function setUpClocks(assigned: Record<string, number[]>): Promise<void> {
    const dataTopics = Object.keys(assigned).filter((topic) => tableOfTopic.has(topic));
    const positions = await readPositions(warehouse, pipeline, dataTopics);
    await withAdmin(kafka, async (admin) => {
      for (const topic of dataTopics) {
        const table = tableOfTopic.get(topic) as string;
        const clock = eventTime.clockOf(table) as EventClock;
        const offsets = await admin.fetchTopicOffsets(topic);
        const mine = new Set(assigned[topic]);
        ownership.assign(topic, offsets.length, mine);
        for (const partition of clock.assigned()) if (!mine.has(partition)) clock.revoke(partition);
        for (const partition of mine) {
          const high = BigInt(offsets.find((o) => o.partition === partition)?.high ?? '0');
          const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
          const stored = positions.get(`${topic}/${partition}`);
          lsnHorizons.set(`${topic}/${partition}`, new LsnHorizon(stored?.lsnReference));
          // A partition with no stored position is newer than the pipeline: read all of it.
          const start = stored?.nextOffset ?? low;
          clock.assign(partition, {
            maxEventTimeMs: stored?.maxEventTimeMs,
            caughtUp: start >= high,
            nowMs: now(),
          });
        }
      }
    });
  }

  async function processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const last = batch.messages.at(-1);
    if (!last) return;
    if (batch.topic === options.heartbeatTopic) {
      for (const message of batch.messages) {
        const committedAtMs = heartbeatTime(message.value);
        if (committedAtMs === undefined) continue;
        if (!isPlausibleTime(committedAtMs, plausibleTimes, now())) {
          // A heartbeat is only a clock: one that cannot be true is not believed, nor stored.
          logger.warn('ignoring a heartbeat whose time is outside the plausible span', {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            tsMs: committedAtMs,
          });
          continue;
        }
        eventTime.observeSourceClock(committedAtMs);
      }
      resolveOffset(last.offset);
      await payload.commitOffsetsIfNecessary();
      return;
    }
    const table = tableOfTopic.get(batch.topic);
    if (!table) return;
    await assignment;
    const clock = eventTime.clockOf(table) as EventClock;
    const startedAt = now();

    const lsnHorizon = lsnHorizonOf(batch.topic, batch.partition);
    const decoded = decodeBatch(batch.topic, batch.partition, batch.messages, {
      table,
      lsnHorizon,
      plausibleTimes,
      maxMessageBytes,
      nowMs: startedAt,
    });
    await ensureChangelogPartitions(contentsFrom(decoded, undefined, undefined).commitDays);
    const partitionBatch: PartitionBatch = {
      pipeline,
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages,
      decoded,
      maxEventTimeMs: clock.maxEventTimeOf(batch.partition),
      lsnReference: lsnHorizon.current(),
      metricsOf,
      watermarks,
      source: ownership.batchSource(batch.topic, batch.partition),
    };
    /** Applies the batch's first `count` messages in one transaction; `rollback` only tries. */
    const applyBatch = (count: number, rollback = false) =>
      inTransaction(async (trx) => {
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

    const first = batch.messages[0];
    /** Reads the partition from its stored offset next, saying why. */
    const seekToStored = (stored: bigint, level: 'info' | 'warn', why: string) => {
      const offset = stored.toString();
      logger[level](why, {
        topic: batch.topic,
        partition: batch.partition,
        from: first?.offset,
        offset,
      });
      consumer.seek({ topic: batch.topic, partition: batch.partition, offset });
    };
    if (outcome.kind === 'gap') {
      const earliest = await earliestOffsetOf(kafka, batch.topic, batch.partition);
      if (earliest > outcome.expected) {
        await skipDeletedOffsets({
          topic: batch.topic,
          partition: batch.partition,
          missingFrom: outcome.expected,
          missingUntil: earliest,
        });
        return;
      }
      // Kafka's committed offset ran ahead of the warehouse's: go back to the stored one.
      seekToStored(outcome.expected, 'warn', 'resuming from the stored offset');
      return;
    }
    if (
      outcome.kind === 'seen' &&
      outcome.expected !== undefined &&
      BigInt(last.offset) + 1n < outcome.expected
    ) {
      // Kafka's committed offset is behind the warehouse's (or there is none, and the partition
      // is read from its beginning): skip straight to the stored one.
      seekToStored(outcome.expected, 'info', 'skipping to the stored offset');
      return;
    }
    const committedAt = now();
    if (outcome.kind === 'applied') {
      if (outcome.maxEventTimeMs !== undefined) {
        clock.observeEvent(batch.partition, outcome.maxEventTimeMs, committedAt);
      }
      if (producer && options.deadLetterTopic) {
        await publishDeadLetters(producer, options.deadLetterTopic, outcome.deadLetters, logger);
      }
      // The windows the batch changed, in the shards this consumer emits, are emitted now; the
      // others by their shards' consumers (after their own batches, or at their next tick).
      const { changes, written } = outcome;
      const onEmitted = options.onEmitted;
      sessionLane.request(new Map([[batch.topic, written.sessionShards]]));
      windowLane.request(
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
    // The sink's own pace, and the session queue's: intake pauses too while the oldest queued
    // session contributions wait longer than they may, so the queue cannot grow without bound.
    const pausedMs =
      outcome.kind === 'applied'
        ? Math.max(
            backpressure.observe(committedAt - startedAt),
            sessionQueue.behind ? SESSION_QUEUE_PAUSE_MS : 0,
          )
        : 0;
    if (pausedMs > 0) {
      const paused = [{ topic: batch.topic, partitions: [batch.partition] }];
      consumer.pause(paused);
      const timer = setTimeout(() => {
        pauseTimers.delete(timer);
        consumer.resume(paused);
      }, pausedMs);
      pauseTimers.add(timer);
      logger.warn('the warehouse is behind: pausing the partition', {
        topic: batch.topic,
        partition: batch.partition,
        pausedMs,
        averageSinkMs: Math.round(backpressure.averageSinkMs ?? 0),
        sessionQueueBehind: sessionQueue.behind,
      });
    }
    const lagMessages = Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n);
    clock.observePosition(batch.partition, lagMessages <= 0, committedAt);
    advanceWatermarks();
    resolveOffset(last.offset);
    // Kafka's committed offsets only show lag; the warehouse's stored offsets are the truth.
    await consumer.commitOffsets([
      {
        topic: batch.topic,
        partition: batch.partition,
        offset: (BigInt(last.offset) + 1n).toString(),
      },
    ]);
    await heartbeat();
    if (outcome.kind === 'applied') {
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
      options.onBatch?.(stats);
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
  }

  /** Feeds the progress other consumers of the group stored into the event clocks. */
  async function observeOtherConsumers(): Promise<void> {
    const rows = await warehouse('ops.consumer_offsets')
      .where({ group_id: pipeline })
      .whereIn('topic', [...tableOfTopic.keys()])
      .whereNotNull('max_event_time_ms')
      .select('topic', 'partition', 'max_event_time_ms', 'updated_at');
    for (const row of rows) {
      const clock = eventTime.clockOf(tableOfTopic.get(row.topic) as string);
      clock?.observeForeign(
        row.partition,
        Number(row.max_event_time_ms),
        new Date(row.updated_at).getTime(),
      );
    }
  }

  /** Creates the raw changelog's daily partitions a batch needs, once per day and process. */
  async function ensureChangelogPartitions(days: readonly string[]): Promise<void> {
    const missing = days.filter((day) => !changelogDays.has(day));
    if (missing.length === 0) return;
    await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [missing]);
    for (const day of missing) changelogDays.add(day);
  }

  await consumer.connect();
  // The warehouse's stored positions say where to read, and a partition without one is read
  // from its beginning (a pipeline that starts at the end has pinned them all). The heartbeats
  // only tell the source's clock now, so they are read from their end.
  await consumer.subscribe({ topics: [...options.topics.values()], fromBeginning: true });
  if (options.heartbeatTopic) {
    await consumer.subscribe({ topics: [options.heartbeatTopic], fromBeginning: false });
  }
  await consumer.run({
    partitionsConsumedConcurrently: options.concurrency ?? 8,
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: processBatch,
  });

  /** What an owned shard's application of its queued session contributions did. */
  let lastHeldBack = { metrics: '', atMs: 0 };
  function reportSessions(result: QueuedSessionsResult): void {
    const heldBack = result.heldBackBy.join(',');
    if (
      heldBack !== '' &&
      (heldBack !== lastHeldBack.metrics || now() - lastHeldBack.atMs > 60_000)
    ) {
      // Left queued, not dropped: the queue's wait gauge and the intake pause show it if no
      // consumer computing these metrics comes to apply them. Said once a minute.
      lastHeldBack = { metrics: heldBack, atMs: now() };
      logger.warn(
        'queued session contributions wait for a consumer computing metrics this one lacks',
        { metrics: result.heldBackBy },
      );
    }
    if (result.inputs === 0) return;
    const lateByTopic = new Map<string, number>();
    for (const entry of result.late) {
      const topic = options.topics.get(entry.table) ?? entry.table;
      lateByTopic.set(topic, (lateByTopic.get(topic) ?? 0) + 1);
    }
    options.onSessions?.({
      batches: result.batches,
      inputs: result.inputs,
      sessions: result.sessions,
      lateByTopic,
    });
    if (result.late.length > 0) {
      logger.warn('late session contributions', { late: result.late.length });
    }
  }

  /**
   * How many batches' session contributions are queued and how long the oldest has waited,
   * whichever consumer applies them: every consumer's intake pauses while it is too long.
   */
  async function observeSessionQueue(): Promise<void> {
    const queue = (await warehouse('stream.session_inbox')
      .where({ pipeline })
      .first(
        warehouse.raw('count(*)::int AS batches'),
        warehouse.raw('min(queued_at) AS oldest'),
      )) as { batches: number; oldest: Date | null } | undefined;
    const batches = queue?.batches ?? 0;
    const oldestWaitMs = queue?.oldest ? Math.max(0, Date.now() - queue.oldest.getTime()) : 0;
    sessionQueue.behind = oldestWaitMs > SESSION_QUEUE_MAX_WAIT_MS;
    options.onSessionQueue?.({ batches, oldestWaitMs });
  }

  // Each tick reads the other consumers' progress, advances the watermarks, then in each lane
  // emits the shards this consumer owns and what is due, and closes windows, in one transaction
  // in turn with the lane's other emissions; a session metric is emitted and closed only up to
  // the watermark of the oldest batch still queued (watermarksToEmit), so no session closes
  // without its queued changes. A queue left behind by a burst is caught up by rounds of
  // bounded size, without holding back the tick.
  const STOP_SESSION_BUDGET_MS = 5_000;
  let stopped = false;
  let ticking: Promise<void> | undefined;
  const runTick = async () => {
    await observeSessionQueue().catch((error: unknown) =>
      logger.error('reading the session queue failed', { error: String(error) }),
    );
    await observeOtherConsumers()
      .then(advanceWatermarks)
      .catch((error: unknown) =>
        logger.error("reading the other consumers' progress failed", { error: String(error) }),
      );
    await Promise.all(
      lanes.map((entry) =>
        entry.lane
          .emitThen((trx) => closeInTransaction(trx, entry.metrics))
          .then((emitted) => {
            const at = now();
            for (const name of emitted.emittedIntervals) lastIntervalEmit.set(name, at);
          })
          .catch((error: unknown) =>
            logger.error('emitting provisional values failed', { error: String(error) }),
          ),
      ),
    );
  };
  const startTick = () => {
    if (stopped || ticking) return;
    ticking = runTick().finally(() => (ticking = undefined));
  };
  const tick = setInterval(startTick, options.tickMs ?? 1_000);

  return {
    pipeline,
    joined,
    watermarks: () => new Map(watermarks),
    health: () => health,
    failed,
    stop: async () => {
      stopped = true;
      clearInterval(tick);
      for (const timer of pauseTimers) clearTimeout(timer);
      await consumer.disconnect();
      await ticking;
      await Promise.all([windowLane.settled(), sessionLane.settled()]);
      await Promise.all(inFlight);
      // What the last batches queued for this consumer's shards is applied now (for a few
      // seconds at most) rather than by the shards' next owner.
      const stopping = now();
      while (now() - stopping < STOP_SESSION_BUDGET_MS) {
        const round = await sessionLane.emit().catch((error: unknown) => {
          logger.error('applying queued session contributions failed', { error: String(error) });
        });
        if (!round || round.behind.size === 0) break;
      }
      await producer?.disconnect();
    },
  };
}

/** Thrown to roll back a transaction that only tries a batch's prefix. */
const ROLLBACK = new Error('rolled back: only trying whether the warehouse takes these changes');

/** Queued session contributions may wait this long before intake pauses for them. */
const SESSION_QUEUE_MAX_WAIT_MS = 30_000;
/** How long a partition pauses after its batch while the session queue is behind. */
const SESSION_QUEUE_PAUSE_MS = 1_000;

/** The source commit time a Debezium heartbeat carries, if it is one. */
function heartbeatTime(value: Buffer | null): number | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as {
      ts_ms?: unknown;
      payload?: { ts_ms?: unknown };
    };
    const ts = parsed.ts_ms ?? parsed.payload?.ts_ms;
    return typeof ts === 'number' ? ts : undefined;
  } catch {
    return undefined;
  }
}
