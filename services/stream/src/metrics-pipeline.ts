import {
  currentContract,
  DEFAULT_MAX_MESSAGE_BYTES,
  type MetricDefinition,
} from '@tidemark/contracts';
import { Partitioners, type Consumer, type Producer } from 'kafkajs';
import { DeadLetterPublisher, publishDeadLetters } from './dead-letter-topic';
import type { Knex } from 'knex';
import { SinkBackpressure } from './backpressure';
import { BatchRunner } from './batch-runner';
import { ChangelogPartitions } from './changelog-partitions';
import { EmissionScheduler, type EmissionSchedulerDeps } from './emission-scheduler';
import { IntakePause } from './intake-pause';
import { PartitionClocks } from './partition-clocks';
import { PipelineTicker, type TickLane } from './pipeline-ticker';
import type { PipelineHealth, StreamPipeline, StreamPipelineOptions } from './pipeline-options';
import { DEFAULT_PLAUSIBLE_TIMES } from './plausibility';
import { pinPositions } from './positions';
import { SessionQueueWatch, SessionReporter } from './session-reporting';
import { applySessionShards, emitWindowShards } from './shard-emission';
import { ShardOwnership } from './shard-ownership';
import { firstPositionsOf } from './topic-offsets';
import { withConflictRetry } from './transaction-retry';
import { readWatermarks } from './window-emission';
import { MetricWatermarks } from './windowing/watermark';

/**
 * A fetch's bound per partition. Larger batches spread each transaction's fixed statements over
 * more changes: 4 MiB (about 4,800 changes) costs PostgreSQL a quarter less CPU per change than
 * 1 MiB did.
 */
export const DEFAULT_MAX_BYTES_PER_PARTITION = 4_194_304;

/** How long stopping spends applying what the last batches queued for this consumer's shards. */
const STOP_SESSION_BUDGET_MS = 5_000;

/**
 * The streaming layer: consumes the Debezium change topics in batches and, per batch, in ONE
 * warehouse transaction, lands the raw changes, updates the partition's partials of every fixed
 * window (retractions included), queues the contributions to session windows (applied by the
 * owners of their keys' shards), records late contributions and dead letters, and stores the
 * partition's next offset (`batch-runner.ts`, `partition-batch.ts`). The shards this consumer
 * owns are emitted in two lanes; a tick emits what is due and closes windows
 * (`pipeline-ticker.ts`). On start it resumes from the stored offsets, so a crash at any point
 * neither loses nor double-counts a change. This file wires those units together.
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
  await recordFirstStart(options, now);
  eventTime.restore(await readWatermarks(warehouse, pipeline));

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
  const sessionReporter = new SessionReporter({
    topics: options.topics,
    logger,
    now,
    onSessions: options.onSessions,
  });
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
    applySessionShards(trx, pipeline, shards, {
      metrics,
      watermarks: eventTime.current,
      onSessions: (result) => sessionReporter.report(result),
    }),
  );
  const lanes: TickLane[] = [
    { lane: windowLane, metrics: metrics.filter((metric) => metric.window.kind !== 'session') },
    { lane: sessionLane, metrics: metrics.filter((metric) => metric.window.kind === 'session') },
  ].filter((entry) => entry.metrics.length > 0);

  const maxBytesPerPartition = options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION;
  const consumer: Consumer = kafka.consumer({
    groupId: pipeline,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition,
    maxBytes: 4 * maxBytesPerPartition,
  });
  const clocks = new PartitionClocks({
    warehouse,
    kafka,
    pipeline,
    tableOfTopic,
    eventTime,
    ownership,
    now,
  });
  const sessionQueue = new SessionQueueWatch(warehouse, pipeline, options.onSessionQueue);
  const intakePause = new IntakePause(
    consumer,
    new SinkBackpressure({ sinkBudgetMs: options.sinkBudgetMs ?? 2_000, maxPauseMs: 10_000 }),
    logger,
  );
  let producer: Producer | undefined;
  let deadLetterPublisher: DeadLetterPublisher | undefined;
  if (options.deadLetterTopic) {
    const topic = options.deadLetterTopic;
    const dlqProducer = kafka.producer({
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await dlqProducer.connect();
    producer = dlqProducer;
    deadLetterPublisher = new DeadLetterPublisher((deadLetters) =>
      publishDeadLetters(dlqProducer, topic, deadLetters, logger),
    );
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
    assignment = clocks.assign(assigned).then(markJoined, (error: unknown) => {
      logger.error('could not set up partition clocks', { error: String(error) });
      failJoin(error);
    });
  });

  const runner = new BatchRunner({
    pipeline,
    kafka,
    consumer,
    deadLetters: deadLetterPublisher,
    heartbeatTopic: options.heartbeatTopic,
    tableOfTopic,
    metricsOf,
    eventTime,
    clocks,
    assignment: () => assignment,
    ownership,
    changelogPartitions: new ChangelogPartitions(warehouse),
    contractOf: options.contractOf ?? currentContract,
    plausibleTimes: options.plausibleTimes ?? DEFAULT_PLAUSIBLE_TIMES,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    inTransaction,
    windowLane,
    sessionLane,
    intakePause,
    sessionQueue,
    logger,
    now,
    onBatch: options.onBatch,
    onEmitted: options.onEmitted,
    onGap: options.onGap,
  });

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
    eachBatch: (payload) => runner.run(payload),
  });

  const ticker = new PipelineTicker({
    pipeline,
    tickMs: options.tickMs ?? 1_000,
    lanes,
    clocks,
    sessionQueue,
    ownership,
    watermarks: eventTime.current,
    advanceWatermarks: () => eventTime.advance(now()),
    logger,
    now,
  });
  ticker.start();

  return {
    pipeline,
    joined,
    watermarks: () => new Map(eventTime.current),
    health: () => health,
    failed,
    stop: async () => {
      const stopping = ticker.stop();
      intakePause.clear();
      await consumer.disconnect();
      await stopping;
      await Promise.all([windowLane.settled(), sessionLane.settled()]);
      await Promise.all(inFlight);
      // What the last batches queued for this consumer's shards is applied now (for a few
      // seconds at most) rather than by the shards' next owner.
      const stoppedAt = now();
      while (now() - stoppedAt < STOP_SESSION_BUDGET_MS) {
        const round = await sessionLane.emit().catch((error: unknown) => {
          logger.error('applying queued session contributions failed', { error: String(error) });
        });
        if (!round || round.behind.size === 0) break;
      }
      await deadLetterPublisher?.drained();
      await producer?.disconnect();
    },
  };
}

/**
 * The first start of a pipeline records since when it observes the changelog: from the
 * beginning of the topics, or from now when it starts at their end with no stored offsets. It
 * pins every partition's first position (its end, or its beginning) as its stored one, in the
 * same transaction: a partition that changes owner before its first batch is then still read
 * from there, not from wherever its end is when the new owner gets it (which would skip
 * changes), and two owners of its first batch wait for each other on the stored position.
 */
async function recordFirstStart(options: StreamPipelineOptions, now: () => number): Promise<void> {
  const { warehouse, kafka, pipeline } = options;
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
}
