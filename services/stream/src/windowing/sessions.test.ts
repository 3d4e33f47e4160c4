import { describe, expect, it } from 'vitest';
import {
  compactEntries,
  evictClosedSessions,
  expandEntries,
  sessionsOf,
  withEntry,
  withoutEntry,
  type SessionEntry,
} from './sessions';

const GAP = 30;
const entries = (...times: number[]): SessionEntry[] =>
  times.map((eventTimeMs) => ({ eventTimeMs, measure: null }));
const bounds = (list: SessionEntry[]) =>
  sessionsOf(list, GAP).map((session) => [session.startMs, session.endMs]);

describe('session windows', () => {
  it('groups events less than a gap apart; a session ends one gap after its last event', () => {
    // 39 -> 69 is exactly a gap: a new session; 69 -> 98 is less: the same one.
    expect(bounds(entries(0, 10, 39, 69, 98))).toEqual([
      [0, 69],
      [69, 128],
    ]);
  });

  it('merges two sessions when an event fills the gap between them', () => {
    const before = entries(0, 10, 60);
    expect(bounds(before)).toEqual([
      [0, 40],
      [60, 90],
    ]);
    expect(bounds(withEntry(before, { eventTimeMs: 35, measure: null }))).toEqual([[0, 90]]);
  });

  it('splits a session when the event holding it together is retracted', () => {
    const merged = entries(0, 10, 35, 60);
    expect(bounds(merged)).toEqual([[0, 90]]);
    const split = withoutEntry(merged, { eventTimeMs: 35, measure: null });
    expect(split && bounds(split)).toEqual([
      [0, 40],
      [60, 90],
    ]);
  });

  it('cannot retract an event it never had', () => {
    expect(withoutEntry(entries(1, 2), { eventTimeMs: 3, measure: null })).toBeUndefined();
  });

  it('evicts closed sessions and remembers where they ended', () => {
    const state = { entries: entries(0, 10, 100), closedUntilMs: null, rowsUntilMs: 40 };
    expect(evictClosedSessions(state, GAP, 5, 44)).toEqual(state);
    expect(evictClosedSessions(state, GAP, 5, 45)).toEqual({
      entries: entries(100),
      closedUntilMs: 40,
      rowsUntilMs: 40,
    });
  });
});

describe('compact session entries', () => {
  it('stores a count key as event times only', () => {
    expect(compactEntries(entries(5, 5, 9))).toEqual({ eventTimes: [5, 5, 9], measures: null });
    expect(expandEntries(['5', '5', '9'], null)).toEqual(entries(5, 5, 9));
  });

  it('keeps measures beside their event times, in order, when any is measured', () => {
    const measured: SessionEntry[] = [
      { eventTimeMs: 1, measure: 250 },
      { eventTimeMs: 2, measure: null },
      { eventTimeMs: 2, measure: 'card' },
    ];
    const stored = compactEntries(measured);
    expect(stored).toEqual({ eventTimes: [1, 2, 2], measures: [250, null, 'card'] });
    expect(expandEntries(stored.eventTimes, stored.measures)).toEqual(measured);
  });

  it('refuses stored state whose measures do not match its event times', () => {
    expect(() => expandEntries([1, 2], [3])).toThrow(/2 event times but 1 measures/);
  });
});
