import type { MetricDefinition } from '@tidemark/contracts';
import type { BatchSource } from './window-store';

/** Shards per topic: the topic's partitions whose emission shards are meant. */
export type ShardsByTopic = ReadonlyMap<string, ReadonlySet<number>>;

/**
 * Which emission shards this consumer owns: those of the partitions it is assigned (shard `s` of
 * a topic's metrics is partition `s`'s, `shards.ts`), as of its last assignment.
 */
export class ShardOwnership {
  private readonly partitionCounts = new Map<string, number>();
  private readonly owned = new Map<string, ReadonlySet<number>>();

  /** @param topics each source table's topic */
  constructor(private readonly topics: ReadonlyMap<string, string>) {}

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
        const count = this.partitionCounts.get(this.topics.get(metric.source.table) ?? '');
        if (count === undefined) throw new Error(`no partition count for ${metric.source.table}`);
        return count;
      },
    };
  }

  /** The shards of a metric's windows this consumer emits (none before its assignment). */
  ownedShards(metric: MetricDefinition): number[] {
    return [...(this.owned.get(this.topics.get(metric.source.table) ?? '') ?? [])];
  }

  /** The owned shards of a metric's windows with their topic, as the session queue names them. */
  ownedSessionShards(metric: MetricDefinition): { topic: string; shard: number }[] {
    const topic = this.topics.get(metric.source.table);
    return topic === undefined ? [] : this.ownedShards(metric).map((shard) => ({ topic, shard }));
  }

  /** Every topic's owned shards. */
  all(): ShardsByTopic {
    return this.owned;
  }

  /** Whether this consumer owns every one of `shards`. */
  ownsAll(shards: ShardsByTopic): boolean {
    return [...shards].every(([topic, set]) => {
      const owned = this.owned.get(topic);
      return [...set].every((shard) => owned?.has(shard) === true);
    });
  }
}
