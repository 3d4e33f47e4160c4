import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import type { ShardOwnership, ShardsByTopic } from './shard-ownership';
import { configureStreamTransaction } from './stream-transaction';
import type { EmissionShard } from './window-emitter';

/** What one shard's emission did: rows emitted, and whether work is left for another round. */
export interface ShardEmission {
  emitted: number;
  /** Queued work of the shard remains (an emission takes a bounded amount at a time). */
  more: boolean;
  /** Another transaction held part of the shard, whose work is left to it. */
  held?: boolean;
}

/** What one emission did over the shards it took. */
export interface EmissionRound {
  emitted: number;
  /** The shards with queued work left. */
  behind: ShardsByTopic;
  /** The shards whose queued work this emission did all of. */
  done: ShardsByTopic;
}

/** Told when the shards of a request are emitted, with the commit time of the emission. */
export type OnEmitted = (emittedAtMs: number) => void;

/** A request's shards not yet emitted, and who waits for them. */
interface Waiter {
  shards: Map<string, Set<number>>;
  onEmitted: OnEmitted;
}

export interface EmissionSchedulerDeps {
  /** Each source table's topic. */
  topics: ReadonlyMap<string, string>;
  /** The shards this consumer owns now. */
  ownership: ShardOwnership;
  metricsOf(table: string): readonly MetricDefinition[];
  /** Runs work in a warehouse transaction (the pipeline's, with its retries and tracking). */
  inTransaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /**
   * Emits shards in the transaction, returning what each did (in order); undefined for one
   * another transaction holds.
   */
  emitShards(
    trx: Knex.Transaction,
    shards: readonly EmissionShard[],
  ): Promise<(ShardEmission | undefined)[]>;
  onError(error: unknown): void;
}

/**
 * When this consumer emits the shards it owns (`ShardOwnership`): one lane of emission, such as
 * the merging of fixed windows' partials or the application of queued session contributions
 * (`emitShards`). One emission of a lane runs at a time per process (the tick's work for the
 * lane's metrics included), and the batches do not wait for it: shards requested while one runs
 * are merged into the next, so a lane takes one connection however many partitions' batches ask
 * for it.
 */
export class EmissionScheduler {
  private readonly tableOfTopic: Map<string, string>;
  /** The last emission in line: each waits for the one before it. */
  private tail: Promise<unknown> = Promise.resolve();
  /** A round in line that has not started yet: it takes every request made until it starts. */
  private waitingRound: Promise<void> | undefined;
  private requested: Map<string, Set<number>> | undefined;
  /** Those waiting for the requested shards. */
  private waiters: Waiter[] = [];

  constructor(private readonly deps: EmissionSchedulerDeps) {
    this.tableOfTopic = new Map([...deps.topics].map(([table, topic]) => [topic, table]));
  }

  /**
   * Asks for these shards to be emitted soon (those this consumer owns), without waiting: one
   * round in line takes every request made before it starts. Shards it leaves with work go
   * round again, behind whatever got in line meanwhile (a tick, say). `onEmitted` is told once
   * a round has emitted all of them, if this consumer owns them all and no other transaction
   * held one (otherwise it cannot know when they are, and is not told).
   */
  request(shards: ShardsByTopic, onEmitted?: OnEmitted): void {
    if (onEmitted && this.deps.ownership.ownsAll(shards)) {
      this.waiters.push({ shards: copyOf(shards), onEmitted });
    }
    this.merge(shards);
    if (this.waitingRound || !this.requested) return;
    this.waitingRound = this.inTurn(async () => {
      this.waitingRound = undefined;
      const next = this.requested;
      const waiters = this.waiters;
      this.requested = undefined;
      this.waiters = [];
      if (!next) return;
      const round = await this.inTransaction((trx) => this.emitShards(trx, next)).catch(
        (error: unknown) => this.deps.onError(error),
      );
      if (!round) return;
      const emittedAtMs = Date.now();
      for (const waiter of waiters) {
        const left = without(waiter.shards, round.done);
        if (left.size === 0) waiter.onEmitted(emittedAtMs);
        // Still queued behind the round's bounded share: told after a later round.
        else if (within(left, round.behind)) this.waiters.push({ ...waiter, shards: left });
      }
      this.request(round.behind);
    });
  }

  /** Resolves once no emission is in line. */
  async settled(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }

  /**
   * Emits the queued work of every owned shard (or those of `only`) in one transaction, in
   * turn with the other emissions. A shard another transaction is emitting is left to it; the
   * shards with work left are returned.
   */
  emit(only?: ShardsByTopic): Promise<EmissionRound> {
    return this.inTurn(() => this.inTransaction((trx) => this.emitShards(trx, only)));
  }

  /**
   * Emits every owned shard, then runs `work` (a tick's closing of windows, say) in the same
   * transaction, in turn with the other emissions: no two transactions of this process write
   * the rows of its shards at once. Shards left with work go round again.
   */
  emitThen<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.inTurn(async () => {
      const { round, result } = await this.inTransaction(async (trx) => ({
        round: await this.emitShards(trx),
        result: await work(trx),
      }));
      this.request(round.behind);
      return result;
    });
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private inTransaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.deps.inTransaction(async (trx) => {
      await configureStreamTransaction(trx);
      return work(trx);
    });
  }

  private async emitShards(trx: Knex.Transaction, only?: ShardsByTopic): Promise<EmissionRound> {
    const shards: EmissionShard[] = [];
    for (const [topic, owned] of this.deps.ownership.all()) {
      const metrics = this.deps.metricsOf(this.tableOfTopic.get(topic) ?? '');
      for (const shard of owned) {
        if (!only || only.get(topic)?.has(shard)) shards.push({ topic, shard, metrics });
      }
    }
    const results = shards.length === 0 ? [] : await this.deps.emitShards(trx, shards);
    let emitted = 0;
    const behind = new Map<string, Set<number>>();
    const done = new Map<string, Set<number>>();
    for (const [index, { topic, shard }] of shards.entries()) {
      const result = results[index];
      emitted += result?.emitted ?? 0;
      if (result?.more) behind.set(topic, (behind.get(topic) ?? new Set()).add(shard));
      else if (result && !result.held) done.set(topic, (done.get(topic) ?? new Set()).add(shard));
    }
    return { emitted, behind, done };
  }

  private merge(shards: ShardsByTopic): void {
    if (shards.size === 0) return;
    this.requested ??= new Map();
    for (const [topic, set] of shards) {
      this.requested.set(topic, new Set([...(this.requested.get(topic) ?? []), ...set]));
    }
  }
}

function copyOf(shards: ShardsByTopic): Map<string, Set<number>> {
  return new Map([...shards].map(([topic, set]) => [topic, new Set(set)]));
}

/** The shards of `shards` not in `taken`. */
function without(shards: ShardsByTopic, taken: ShardsByTopic): Map<string, Set<number>> {
  const left = new Map<string, Set<number>>();
  for (const [topic, set] of shards) {
    const rest = [...set].filter((shard) => !taken.get(topic)?.has(shard));
    if (rest.length > 0) left.set(topic, new Set(rest));
  }
  return left;
}

/** Whether every shard of `shards` is in `of`. */
function within(shards: ShardsByTopic, of: ShardsByTopic): boolean {
  return without(shards, of).size === 0;
}
