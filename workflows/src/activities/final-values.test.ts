import { SHOP_METRICS } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { tableStatesOf } from './final-values';

const range = {
  start: new Date('2026-11-23T00:00:00Z'),
  end: new Date('2026-11-24T00:00:00Z'),
  cutoff: new Date('2026-11-24T00:30:00Z'),
};

describe('tableStatesOf', () => {
  it("rebuilds each table once, over the union of its metrics' event ranges", () => {
    expect(tableStatesOf(SHOP_METRICS, range)).toEqual([
      {
        relation: 'consolidation_state_0',
        table: 'shop.orders',
        eventTimeField: 'created_at',
        // The sessions' day of context on either side.
        from: new Date('2026-11-22T00:00:00Z'),
        to: new Date('2026-11-25T00:00:00Z'),
      },
      {
        relation: 'consolidation_state_1',
        table: 'shop.payments',
        eventTimeField: 'created_at',
        // The hopping window's five minutes back.
        from: new Date('2026-11-22T23:55:00Z'),
        to: range.end,
      },
    ]);
  });
});
