import { describe, expect, it } from 'vitest';
import { IndexedSet } from './indexed-set';

describe('IndexedSet', () => {
  it('adds, deletes and picks by position, keeping every member reachable', () => {
    const set = new IndexedSet();
    for (let item = 0; item < 10; item += 1) set.add(item);
    set.add(3);
    set.delete(0);
    set.delete(9);
    set.delete(42);
    expect(set.size).toBe(8);
    const members = Array.from({ length: set.size }, (_, position) => set.at(position));
    expect(members.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(set.has(0)).toBe(false);
    expect(set.has(5)).toBe(true);
    expect(() => set.at(8)).toThrow(RangeError);
  });
});
