import type { ContractOf, MetricDefinition } from '@tidemark/contracts';
import type { Logger } from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { PlausibleTimes } from './plausibility';
import type { StreamGap } from './positions';
import type { SessionQueueStats, SessionStats } from './session-reporting';

// What starting a stream pipeline takes, what it reports, and what it returns.

export type { SessionQueueStats, SessionStats } from './session-reporting';

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
  /**
   * The contract version each table's changes are checked against (default: the newest
   * registered version, `currentContract`).
   */
  contractOf?: ContractOf;
  /** Where a pipeline with no stored position starts: the topics' beginning or their end. */
  startAt: 'earliest' | 'latest';
  /** A partition read to its end and quiet this long stops holding the watermark back. */
  idleTimeoutMs?: number;
  /** How often watermarks advance and due values are emitted without new events. */
  tickMs?: number;
  /**
   * How long a consumer that stopped without leaving (killed) keeps its partitions from the
   * others and from its own restart (default 10 s).
   */
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
