import { withAdmin } from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { LsnHorizon } from './plausibility';
import { readPositions } from './positions';
import type { ShardOwnership } from './shard-ownership';
import type { EventClock, MetricWatermarks } from './windowing/watermark';

// Each partition's clocks as this consumer knows them: its event time (the metrics' watermarks
// follow the partitions' event times), its LSN horizon (the plausibility check of log
// positions), and the progress the group's other consumers stored for their partitions.

export class PartitionClocks {
  private readonly lsnHorizons = new Map<string, LsnHorizon>();

  constructor(
    private readonly deps: {
      warehouse: Knex;
      kafka: Kafka;
      pipeline: string;
      /** Each change topic's source table. */
      tableOfTopic: ReadonlyMap<string, string>;
      eventTime: MetricWatermarks;
      ownership: ShardOwnership;
      now: () => number;
    },
  ) {}

  /** The event clock of a change topic's table. */
  clockOf(topic: string): EventClock {
    const table = this.deps.tableOfTopic.get(topic);
    const clock = table === undefined ? undefined : this.deps.eventTime.clockOf(table);
    if (!clock) throw new Error(`no event clock for topic ${topic}`);
    return clock;
  }

  /** A partition's highest accepted LSN, from its stored position once it is assigned. */
  lsnHorizonOf(topic: string, partition: number): LsnHorizon {
    const key = `${topic}/${partition}`;
    let horizon = this.lsnHorizons.get(key);
    if (!horizon) {
      horizon = new LsnHorizon(undefined);
      this.lsnHorizons.set(key, horizon);
    }
    return horizon;
  }

  /**
   * On every assignment, before its first batch: each assigned partition's clock from its stored
   * event time and whether it has unread data, its LSN horizon from its stored position, and the
   * shards this consumer now owns.
   */
  async assign(assigned: Record<string, number[]>): Promise<void> {
    const { warehouse, kafka, pipeline, tableOfTopic, ownership, now } = this.deps;
    const dataTopics = Object.keys(assigned).filter((topic) => tableOfTopic.has(topic));
    const positions = await readPositions(warehouse, pipeline, dataTopics);
    await withAdmin(kafka, async (admin) => {
      for (const topic of dataTopics) {
        const clock = this.clockOf(topic);
        const offsets = await admin.fetchTopicOffsets(topic);
        const mine = new Set(assigned[topic]);
        ownership.assign(topic, offsets.length, mine);
        for (const partition of clock.assigned()) if (!mine.has(partition)) clock.revoke(partition);
        for (const partition of mine) {
          const high = BigInt(offsets.find((o) => o.partition === partition)?.high ?? '0');
          const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
          const stored = positions.get(`${topic}/${partition}`);
          this.lsnHorizons.set(`${topic}/${partition}`, new LsnHorizon(stored?.lsnReference));
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

  /** Feeds the progress the group's other consumers stored into the event clocks. */
  async observeOtherConsumers(): Promise<void> {
    const { warehouse, pipeline, tableOfTopic } = this.deps;
    const rows = await warehouse('ops.consumer_offsets')
      .where({ group_id: pipeline })
      .whereIn('topic', [...tableOfTopic.keys()])
      .whereNotNull('max_event_time_ms')
      .select<{ topic: string; partition: number; max_event_time_ms: string; updated_at: Date }[]>(
        'topic',
        'partition',
        'max_event_time_ms',
        'updated_at',
      );
    for (const row of rows) {
      this.clockOf(row.topic).observeForeign(
        row.partition,
        Number(row.max_event_time_ms),
        new Date(row.updated_at).getTime(),
      );
    }
  }
}
