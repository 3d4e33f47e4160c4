import type { ChangeEvent } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import {
  earlierCommit,
  laterMark,
  needsKnowledge,
  readsOlderHistory,
  type CommitMark,
} from './row-knowledge';
import type { KeyedChange } from './windowing/plan';

const MARK: CommitMark = { committedAtMs: 1_000_000, lsn: 500 };

function event(op: ChangeEvent['op'], committedAtMs: number, lsn: number | null = 7): ChangeEvent {
  return {
    op,
    before: op === 'c' || op === 'r' || op === 't' ? null : { id: 'a' },
    after: op === 'd' || op === 't' ? null : { id: 'a' },
    source: { schema: 'shop', table: 'orders', lsn, txId: 1, committedAtMs, snapshot: false },
    capturedAtMs: committedAtMs,
    contractVersion: 1,
  };
}

describe('needsKnowledge', () => {
  it('looks nothing up for an insert sorting after everything the partition applied', () => {
    expect(needsKnowledge(event('c', MARK.committedAtMs + 1, 1), MARK)).toBe(false);
    // Later in the same transaction (one commit time): its LSN is past the mark's.
    expect(needsKnowledge(event('c', MARK.committedAtMs, 501), MARK)).toBe(false);
  });

  it('looks up an insert not past the mark: it may be one sent again', () => {
    expect(needsKnowledge(event('c', MARK.committedAtMs, 500), MARK)).toBe(true);
    expect(needsKnowledge(event('c', MARK.committedAtMs, 499), MARK)).toBe(true);
    expect(needsKnowledge(event('c', MARK.committedAtMs - 5_000, 900), MARK)).toBe(true);
    // A mark whose LSN is unknown (a migrated position): a tie of commit time is looked up.
    const unknown = { committedAtMs: MARK.committedAtMs, lsn: null };
    expect(needsKnowledge(event('c', MARK.committedAtMs, 10_000), unknown)).toBe(true);
  });

  it('looks up updates, deletes and snapshot reads whenever they were committed', () => {
    for (const op of ['u', 'd', 'r'] as const) {
      expect(needsKnowledge(event(op, MARK.committedAtMs + 60_000, 9_999), MARK)).toBe(true);
    }
  });

  it('looks nothing up before the partition applied anything, nor for a truncate', () => {
    for (const op of ['c', 'u', 'd', 'r', 't'] as const) {
      expect(needsKnowledge(event(op, MARK.committedAtMs), undefined)).toBe(false);
    }
    expect(needsKnowledge(event('t', MARK.committedAtMs - 1, null), MARK)).toBe(false);
  });
});

describe('laterMark', () => {
  const change = (at: number, lsn: number | null) =>
    ({ event: event('c', at, lsn) }) as KeyedChange;

  it('moves to the latest change of the batch by commit time, then LSN, never back', () => {
    expect(laterMark([change(5, 9), change(9, 1), change(9, 3), change(7, 50)], undefined)).toEqual(
      { committedAtMs: 9, lsn: 3 },
    );
    expect(laterMark([change(5, 1)], { committedAtMs: 8, lsn: 2 })).toEqual({
      committedAtMs: 8,
      lsn: 2,
    });
    expect(laterMark([], undefined)).toBeUndefined();
  });

  it('leaves truncates (no LSN) aside, and an unknown LSN until the commit time moves on', () => {
    expect(laterMark([change(20, null)], { committedAtMs: 8, lsn: 2 })).toEqual({
      committedAtMs: 8,
      lsn: 2,
    });
    const unknown = { committedAtMs: 8, lsn: null };
    expect(laterMark([change(8, 99)], unknown)).toEqual(unknown);
    expect(laterMark([change(9, 1)], unknown)).toEqual({ committedAtMs: 9, lsn: 1 });
  });
});

describe('earlierCommit', () => {
  const change = (at: number) => ({ event: event('c', at) }) as KeyedChange;

  it('moves to the earliest commit time of the batch, never forward', () => {
    expect(earlierCommit([change(9), change(5), change(7)], undefined)).toBe(5);
    expect(earlierCommit([change(9)], 6)).toBe(6);
    expect(earlierCommit([], undefined)).toBeUndefined();
  });
});

describe('readsOlderHistory', () => {
  it('looks again only when the pipeline applied changes older than the recent look-up read', () => {
    expect(readsOlderHistory(1_000, 5_000)).toBe(true);
    expect(readsOlderHistory(5_000, 5_000)).toBe(false);
    expect(readsOlderHistory(9_000, 5_000)).toBe(false);
    // Nothing in the changelog under the offsets the pipeline read: its rows are recorded ones.
    expect(readsOlderHistory(undefined, 5_000)).toBe(false);
  });
});
