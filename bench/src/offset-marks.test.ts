import { describe, expect, it } from 'vitest';
import {
  hasReached,
  marksByTopic,
  messagesBetween,
  parseMarkKey,
  rangeOffsets,
  RangeProgress,
} from './offset-marks';

const marks = (entries: Record<string, number>) =>
  new Map(Object.entries(entries).map(([key, offset]) => [key, BigInt(offset)]));

describe('offset marks', () => {
  it('counts the messages between two sets of marks, new partitions from 0', () => {
    const start = marks({ 'tidemark.shop.orders/0': 100, 'tidemark.shop.orders/1': 50 });
    const end = marks({
      'tidemark.shop.orders/0': 130,
      'tidemark.shop.orders/1': 50,
      'tidemark.shop.payments/0': 7,
    });
    expect(messagesBetween(start, end)).toBe(37);
  });

  it("records each partition's first and last offset of the range, both included", () => {
    const start = marks({ 'tidemark.shop.orders/0': 100, 'tidemark.shop.orders/1': 50 });
    const end = marks({
      'tidemark.shop.orders/1': 50,
      'tidemark.shop.orders/0': 130,
      'tidemark.shop.payments/0': 7,
    });
    const offsets = rangeOffsets({ start, end });
    // A partition without a message in the range is left out; a new one starts at 0.
    expect(offsets).toEqual({
      start: { 'tidemark.shop.orders/0': '100', 'tidemark.shop.payments/0': '0' },
      end: { 'tidemark.shop.orders/0': '129', 'tidemark.shop.payments/0': '6' },
    });
  });

  it('parses keys of topics with dots and groups marks by topic', () => {
    expect(parseMarkKey('tidemark.shop.orders/2')).toEqual({
      topic: 'tidemark.shop.orders',
      partition: 2,
    });
    const byTopic = marksByTopic(marks({ 'a.b/0': 1, 'a.b/1': 2, 'c/0': 3 }));
    expect(byTopic.get('a.b')).toEqual([
      { partition: 0, offset: '1' },
      { partition: 1, offset: '2' },
    ]);
    expect(byTopic.get('c')).toEqual([{ partition: 0, offset: '3' }]);
  });

  it('has reached a target only when every partition has', () => {
    const target = marks({ 't/0': 10, 't/1': 5 });
    expect(hasReached(marks({ 't/0': 10, 't/1': 6 }), target)).toBe(true);
    expect(hasReached(marks({ 't/0': 10 }), target)).toBe(false);
  });
});

describe('RangeProgress', () => {
  it('is done once every partition has covered its part, and caps what it counts', () => {
    const progress = new RangeProgress({
      start: marks({ 't/0': 100, 't/1': 0 }),
      end: marks({ 't/0': 110, 't/1': 5 }),
    });
    expect(progress.advance('t', 0, 10)).toBe(false);
    expect(progress.processed()).toBe(10);
    expect(progress.advance('t', 1, 3)).toBe(false);
    expect(progress.advance('t', 1, 4)).toBe(true);
    expect(progress.processed()).toBe(15);
  });

  it('is done at once for an empty range', () => {
    const progress = new RangeProgress({ start: marks({ 't/0': 4 }), end: marks({ 't/0': 4 }) });
    expect(progress.done()).toBe(true);
    expect(progress.processed()).toBe(0);
  });
});
