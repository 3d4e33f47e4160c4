import type { Knex } from 'knex';

/**
 * Writes orders to the source until `until` says stop, step by step: each step inserts the rows
 * `ordersOf(step)` gives and updates one earlier order's status and amount, in one transaction;
 * every `deleteEvery` steps an earlier order is deleted. Returns how many changes it made.
 */
export async function writeOrderTraffic(
  source: Knex,
  options: {
    until: () => boolean;
    ordersOf: (step: number) => Record<string, unknown>[];
    deleteEvery: number;
  },
): Promise<number> {
  const ids: string[] = [];
  let changes = 0;
  let step = 0;
  while (!options.until()) {
    step += 1;
    await source.transaction(async (trx) => {
      const inserted = await trx('shop.orders').insert(options.ordersOf(step)).returning('id');
      ids.push(...inserted.map((row: { id: string }) => row.id));
      changes += inserted.length;
      const updated = ids[(step * 7) % ids.length];
      if (updated) {
        await trx('shop.orders')
          .where({ id: updated })
          .update({ status: step % 2 ? 'cancelled' : 'refunded', amount_minor: 50 + step });
        changes += 1;
      }
    });
    if (step % options.deleteEvery === 0 && ids.length > 10) {
      const [deleted] = ids.splice((step * 13) % ids.length, 1);
      await source('shop.orders').where({ id: deleted }).delete();
      changes += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return changes;
}
