import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import type { EmissionShard } from './window-emitter';
import type { BatchSource } from './window-store';

/** Shards per topic: the topic's partitions whose emission shards are meant. */
export type ShardsByTopic = ReadonlyMap<string, ReadonlySet<number>>;

/** What one shard's emission did: rows emitted, and whether work is left for another round. */
export interface ShardEmission {
  emitted: number;
  /** Queued work of the shard remains (an emission takes a bounded amount at a time). */
  more: boolean;
}

/** What one emission did over the shards it took. */
export interface EmissionRound {
  emitted: number;
  /** The shards with queued work left. */
  behind: ShardsByTopic;
}

export interface EmissionSchedulerDeps {
  /** Each source table's topic. */
  topics: ReadonlyMap<string, string>;
  metricsOf(table: string): readonly MetricDefinition[];
  /** Runs work in a warehouse transaction (the pipeline's, with its retries and tracking). */
  inTransaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /** Emits one shard in the transaction; undefined when another transaction holds it. */
  emitShard(trx: Knex.Transaction, shard: EmissionShard): Promise<ShardEmission | undefined>;
  onError(error: unknown): void;
}

/**
 * Which emission shards this consumer owns, and when it emits them: a consumer owns the shards
 * of the partitions it is assigned (shard `s` of a topic's metrics is partition `s`'s), and
 * emitting a shard applies its queued session contributions and emits its changed windows. One
 * emission runs at a time per process, and the batches do not wait for it: shards requested
 * while one runs are merged into the next, so emission takes one connection however many
 * partitions' batches ask for it.
 */
export class EmissionScheduler {
  private readonly partitionCounts = new Map<string, number>();
  private readonly owned = new Map<string, ReadonlySet<number>>();
  private readonly tableOfTopic: Map<string, string>;
  private running: Promise<void> | undefined;
  private requested: Map<string, Set<number>> | undefined;

  constructor(private readonly deps: EmissionSchedulerDeps) {
    this.tableOfTopic = new Map([...deps.topics].map(([table, topic]) => [topic, table]));
  }

  /** On every assignment, before any batch: a topic's partition count and those owned here. */
  assign(topic: string, partitionCount: number, owned: ReadonlySet<number>): void {
    this.partitionCounts.set(topic, partitionCount);
    this.owned.set(topic, owned);
  }

  /** Where a batch comes from, with its metrics' shard counts. */
  batchSource(topic: string, partition: number): BatchSource {
    return {
      topic,
      partition,
      shardsOf: (metric) => {
        const count = this.partitionCounts.get(this.deps.topics.get(metric.source.table) ?? '');
        if (count === undefined) throw new Error(`no partition count for ${metric.source.table}`);
        return count;
      },
    };
  }

  /** The shards of a metric's windows this consumer emits (none before its assignment). */
  ownedShards(metric: MetricDefinition): number[] {
    return [...(this.owned.get(this.deps.topics.get(metric.source.table) ?? '') ?? [])];
  }

  /** Asks for these shards to be emitted soon (those this consumer owns), without waiting. */
  request(shards: ShardsByTopic): void {
    this.merge(shards);
    if (this.running || !this.requested) return;
    this.running = (async () => {
      while (this.requested) {
        const next = this.requested;
        this.requested = undefined;
        const round = await this.emit(next).catch((error: unknown) => this.deps.onError(error));
        // A shard with work left goes round again, behind what was requested meanwhile.
        if (round) this.merge(round.behind);
      }
    })().finally(() => (this.running = undefined));
  }

  private merge(shards: ShardsByTopic): void {
    if (shards.size === 0) return;
    this.requested ??= new Map();
    for (const [topic, set] of shards) {
      this.requested.set(topic, new Set([...(this.requested.get(topic) ?? []), ...set]));
    }
  }

  /** Resolves once no requested emission is left to run. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Emits owned shards' queued work, one transaction for all: those of `only`, or every owned
   * shard. A shard another transaction is emitting is left to it; the shards with work left
   * are returned (`request` sends them round again).
   */
  emit(only?: ShardsByTopic): Promise<EmissionRound> {
    return this.deps.inTransaction(async (trx) => {
      // An emission lost in a crash of PostgreSQL is lost with its claim on the queued
      // windows and session contributions: they are emitted again.
      await trx.raw('SET LOCAL synchronous_commit = off');
      let emitted = 0;
      const behind = new Map<string, Set<number>>();
      for (const [topic, owned] of this.owned) {
        const metrics = this.deps.metricsOf(this.tableOfTopic.get(topic) ?? '');
        for (const shard of owned) {
          if (only && !only.get(topic)?.has(shard)) continue;
          const done = await this.deps.emitShard(trx, { topic, shard, metrics });
          emitted += done?.emitted ?? 0;
          if (done?.more) behind.set(topic, (behind.get(topic) ?? new Set()).add(shard));
        }
      }
      return { emitted, behind };
    });
  }
}
