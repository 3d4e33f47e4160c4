import { describe, expect, it } from 'vitest';
import { snapshotSignal } from './connector-snapshot';

const CONFIG = {
  'table.include.list': 'shop.orders, shop.payments',
  'signal.data.collection': 'tidemark_cdc.debezium_signal',
};

describe('snapshotSignal', () => {
  it("asks for an incremental snapshot of captured tables in Debezium's signal format", () => {
    expect(snapshotSignal(CONFIG, ['shop.payments'], 'a1')).toEqual({
      signalTable: 'tidemark_cdc.debezium_signal',
      row: {
        id: 'snapshot-a1',
        type: 'execute-snapshot',
        data: '{"data-collections":["shop.payments"],"type":"incremental"}',
      },
    });
  });

  it('refuses a table the connector does not capture, a connector without signals, and no table', () => {
    expect(() => snapshotSignal(CONFIG, ['shop.orders', 'shop.refunds'])).toThrow(
      /^not captured by the connector: shop.refunds \(its table.include.list: shop.orders, shop.payments\)/,
    );
    expect(() => snapshotSignal({ 'table.include.list': 'shop.orders' }, ['shop.orders'])).toThrow(
      /no signal.data.collection/,
    );
    expect(() => snapshotSignal(CONFIG, [])).toThrow(/expected the tables to snapshot/);
  });
});
