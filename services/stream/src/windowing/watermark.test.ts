import { describe, expect, it } from 'vitest';
import { advanceWatermark, EventClock, MetricWatermarks } from './watermark';

const IDLE = 10_000;

describe('EventClock', () => {
  it('is the minimum of the partitions holding it', () => {
    const clock = new EventClock(IDLE);
    clock.assign(0, { caughtUp: false, nowMs: 0 });
    clock.assign(1, { caughtUp: false, nowMs: 0 });
    clock.observeEvent(0, 5_000, 1);
    expect(clock.nowMs(1)).toBeUndefined();
    clock.observeEvent(1, 3_000, 2);
    clock.observeEvent(0, 9_000, 3);
    expect(clock.nowMs(3)).toBe(3_000);
  });

  it('lets a partition read to its end and idle stop holding it back', () => {
    const clock = new EventClock(IDLE);
    clock.assign(0, { caughtUp: false, nowMs: 0 });
    clock.assign(1, { caughtUp: true, nowMs: 0 });
    clock.observeEvent(0, 50_000, 100);
    clock.observeEvent(1, 20_000, 100);
    clock.observePosition(1, true, 100);
    expect(clock.nowMs(5_000)).toBe(20_000);
    expect(clock.nowMs(100 + IDLE)).toBe(50_000);
  });

  it('is not held back by a partition read to its end that never had an event', () => {
    const clock = new EventClock(IDLE);
    clock.assign(0, { caughtUp: true, nowMs: 0 });
    clock.assign(1, { caughtUp: true, nowMs: 0 });
    clock.observeEvent(0, 7_000, 10);
    expect(clock.nowMs(20)).toBe(7_000);
  });

  it('never skips a partition that still has unread events, however quiet', () => {
    const clock = new EventClock(IDLE);
    clock.assign(0, { maxEventTimeMs: 1_000, caughtUp: false, nowMs: 0 });
    clock.assign(1, { maxEventTimeMs: 9_000, caughtUp: true, nowMs: 0 });
    expect(clock.nowMs(10 * IDLE)).toBe(1_000);
  });

  it('follows the Debezium heartbeat when every partition is quiet', () => {
    const clock = new EventClock(IDLE);
    clock.assign(0, { maxEventTimeMs: 1_000, caughtUp: true, nowMs: 0 });
    clock.observeSourceClock(60_000);
    expect(clock.nowMs(IDLE)).toBe(60_000);
  });
});

describe('EventClock across consumers of one group', () => {
  it("is held back by another consumer's partition while it stores progress", () => {
    const clock = new EventClock(IDLE);
    clock.assign(0, { caughtUp: false, nowMs: 0 });
    clock.observeEvent(0, 50_000, 100);
    clock.observeForeign(1, 20_000, 100);
    expect(clock.nowMs(200)).toBe(20_000);
    // The other consumer went quiet (its partition read to the end): it stops holding.
    expect(clock.nowMs(100 + IDLE)).toBe(50_000);
  });

  it('ignores stored progress of a partition it owns itself', () => {
    const clock = new EventClock(IDLE);
    clock.assign(0, { caughtUp: false, nowMs: 0 });
    clock.observeEvent(0, 50_000, 100);
    clock.observeForeign(0, 1_000, 100);
    expect(clock.nowMs(200)).toBe(50_000);
  });
});

describe('advanceWatermark', () => {
  it('subtracts the out-of-orderness bound and never goes back', () => {
    expect(advanceWatermark(null, undefined, 5_000)).toBeNull();
    expect(advanceWatermark(null, 60_000, 5_000)).toBe(55_000);
    expect(advanceWatermark(55_000, 40_000, 5_000)).toBe(55_000);
  });
});

describe('MetricWatermarks', () => {
  const orders = {
    name: 'orders',
    source: { table: 'shop.orders', contractVersion: 1 },
    outOfOrdernessMs: 5,
  };
  const payments = {
    name: 'payments',
    source: { table: 'shop.payments', contractVersion: 1 },
    outOfOrdernessMs: 10,
  };

  it("advances each metric from its own table's clock, never backwards", () => {
    const watermarks = new MetricWatermarks(
      [orders, payments],
      ['shop.orders', 'shop.payments'],
      1_000,
    );
    watermarks.clockOf('shop.orders')?.assign(0, { caughtUp: false, nowMs: 0 });
    watermarks.clockOf('shop.orders')?.observeEvent(0, 100, 0);
    watermarks.advance(0);
    expect(watermarks.current).toEqual(
      new Map([
        ['orders', 95],
        ['payments', null],
      ]),
    );
    // A heartbeat moves every quiet table's clock, and nothing goes back.
    watermarks.observeSourceClock(500);
    watermarks.clockOf('shop.orders')?.observePosition(0, true, 0);
    watermarks.advance(5_000);
    expect(watermarks.current).toEqual(
      new Map([
        ['orders', 495],
        ['payments', 490],
      ]),
    );
    watermarks.restore(new Map([['orders', 10]]));
    watermarks.advance(5_000);
    expect(watermarks.current.get('orders')).toBe(495);
  });

  it('takes up stored watermarks only of the metrics it computes', () => {
    const watermarks = new MetricWatermarks([orders], ['shop.orders'], 1_000);
    watermarks.restore(
      new Map([
        ['orders', 42],
        ['retired', 7],
      ]),
    );
    expect(watermarks.current).toEqual(new Map([['orders', 42]]));
    expect(watermarks.clockOf('shop.refunds')).toBeUndefined();
  });
});
