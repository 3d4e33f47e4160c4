import { ordersPerMinute, paymentFailureRate } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { EmissionScheduler } from './emission-scheduler';
import { ShardOwnership } from './shard-ownership';
import type { EmissionShard } from './window-emitter';

const TOPICS = new Map([
  ['shop.orders', 't.orders'],
  ['shop.payments', 't.payments'],
]);

/** A scheduler whose transactions record the shards emitted, each call one emission. */
function scheduler(
  options: { held?: Set<string>; gate?: Promise<void>; backlog?: Map<string, number> } = {},
) {
  const emissions: string[][] = [];
  let current: string[] = [];
  const trx = { raw: async () => undefined } as unknown as Knex.Transaction;
  const ownership = new ShardOwnership(TOPICS);
  const emission = new EmissionScheduler({
    topics: TOPICS,
    ownership,
    metricsOf: (table) => (table === 'shop.orders' ? [ordersPerMinute] : [paymentFailureRate]),
    inTransaction: async (work) => {
      current = [];
      await options.gate;
      const result = await work(trx);
      emissions.push(current);
      return result;
    },
    emitShards: async (_trx, shards: readonly EmissionShard[]) =>
      shards.map((shard) => {
        const name = `${shard.topic}/${shard.shard}`;
        expect(shard.metrics).toHaveLength(1);
        if (options.held?.has(name)) return undefined;
        current.push(name);
        // A shard with a backlog takes one unit of it per emission.
        const left = (options.backlog?.get(name) ?? 1) - 1;
        options.backlog?.set(name, left);
        return { emitted: 1, more: left > 0 };
      }),
    onError: (error) => {
      throw error;
    },
  });
  return { emission, emissions, ownership };
}

describe('EmissionScheduler', () => {
  it('emits the shards this consumer owns, only those asked for when asked', async () => {
    const { emission, emissions, ownership } = scheduler();
    ownership.assign('t.orders', 4, new Set([1, 3]));
    ownership.assign('t.payments', 2, new Set([0]));
    expect(await emission.emit()).toMatchObject({ emitted: 3, behind: new Map() });
    // Only what is asked for and owned: shard 2 belongs to another consumer.
    expect((await emission.emit(new Map([['t.orders', new Set([2, 3])]]))).emitted).toBe(1);
    expect(emissions).toEqual([['t.orders/1', 't.orders/3', 't.payments/0'], ['t.orders/3']]);
  });

  it('leaves a shard another transaction holds', async () => {
    const { emission, ownership } = scheduler({ held: new Set(['t.orders/1']) });
    ownership.assign('t.orders', 2, new Set([0, 1]));
    expect((await emission.emit()).emitted).toBe(1);
  });

  it('says which shards have work left, and sends them round again until they have none', async () => {
    const backlog = new Map([['t.orders/1', 3]]);
    const { emission, emissions, ownership } = scheduler({ backlog });
    ownership.assign('t.orders', 2, new Set([0, 1]));
    expect((await emission.emit()).behind).toEqual(new Map([['t.orders', new Set([1])]]));
    emission.request(new Map([['t.orders', new Set([1])]]));
    await emission.settled();
    expect(emissions).toEqual([['t.orders/0', 't.orders/1'], ['t.orders/1'], ['t.orders/1']]);
    expect(backlog.get('t.orders/1')).toBe(0);
  });

  it('runs one emission at a time and merges the requests made meanwhile into the next', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { emission, emissions, ownership } = scheduler({ gate });
    ownership.assign('t.orders', 4, new Set([0, 1, 2, 3]));
    emission.request(new Map([['t.orders', new Set([0])]]));
    await new Promise((resolve) => setImmediate(resolve));
    emission.request(new Map([['t.orders', new Set([1])]]));
    emission.request(new Map([['t.orders', new Set([2])]]));
    open();
    await emission.settled();
    // The first request was running (waiting at the gate); the two others became one emission.
    expect(emissions).toEqual([['t.orders/0'], ['t.orders/1', 't.orders/2']]);
  });

  it("runs a tick's work after every owned shard, in the same transaction, in turn with the rest", async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { emission, emissions, ownership } = scheduler({ gate });
    ownership.assign('t.orders', 2, new Set([0, 1]));
    const order: string[] = [];
    emission.request(new Map([['t.orders', new Set([0])]]));
    await new Promise((resolve) => setImmediate(resolve));
    const ticked = emission.emitThen(async () => {
      order.push('tick');
      return 'closed';
    });
    // Asked for while the tick waits its turn: after the tick, not beside it.
    emission.request(new Map([['t.orders', new Set([1])]]));
    open();
    expect(await ticked).toBe('closed');
    await emission.settled();
    expect(order).toEqual(['tick']);
    expect(emissions).toEqual([['t.orders/0'], ['t.orders/0', 't.orders/1'], ['t.orders/1']]);
  });

  it('tells a request once all its shards are emitted, and only when it can know', async () => {
    const backlog = new Map([['t.orders/1', 2]]);
    const { emission, ownership } = scheduler({ backlog, held: new Set(['t.payments/0']) });
    ownership.assign('t.orders', 3, new Set([0, 1]));
    ownership.assign('t.payments', 1, new Set([0]));
    const told: string[] = [];
    const tell = (name: string) => () => told.push(name);
    emission.request(new Map([['t.orders', new Set([0])]]), tell('owned'));
    // Shard 1's work takes two rounds: told after the second.
    emission.request(new Map([['t.orders', new Set([0, 1])]]), tell('behind'));
    // Shard 2 is another consumer's, and another transaction holds t.payments/0: never told.
    emission.request(new Map([['t.orders', new Set([2])]]), tell('foreign'));
    emission.request(new Map([['t.payments', new Set([0])]]), tell('held'));
    await emission.settled();
    expect(told).toEqual(['owned', 'behind']);
  });
});
