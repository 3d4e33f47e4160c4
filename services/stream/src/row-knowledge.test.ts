import type { ChangeEvent } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { latestCommitOf, needsKnowledge } from './row-knowledge';
import type { KeyedChange } from './windowing/plan';

const MARK = 1_000_000;

function event(op: ChangeEvent['op'], committedAtMs: number): ChangeEvent {
  return {
    op,
    before: op === 'c' || op === 'r' || op === 't' ? null : { id: 'a' },
    after: op === 'd' || op === 't' ? null : { id: 'a' },
    source: { schema: 'shop', table: 'orders', lsn: 7, txId: 1, committedAtMs, snapshot: false },
    capturedAtMs: committedAtMs,
    contractVersion: 1,
  };
}

describe('needsKnowledge', () => {
  it('looks nothing up for an insert committed after everything the partition applied', () => {
    expect(needsKnowledge(event('c', MARK + 1), MARK)).toBe(false);
  });

  it('looks up an insert not past the mark: it may be one sent again', () => {
    expect(needsKnowledge(event('c', MARK), MARK)).toBe(true);
    expect(needsKnowledge(event('c', MARK - 5_000), MARK)).toBe(true);
  });

  it('looks up updates, deletes and snapshot reads whenever they were committed', () => {
    for (const op of ['u', 'd', 'r'] as const) {
      expect(needsKnowledge(event(op, MARK + 60_000), MARK)).toBe(true);
    }
  });

  it('looks nothing up before the partition applied anything, nor for a truncate', () => {
    for (const op of ['c', 'u', 'd', 'r', 't'] as const) {
      expect(needsKnowledge(event(op, MARK), undefined)).toBe(false);
    }
    expect(needsKnowledge(event('t', MARK - 1), MARK)).toBe(false);
  });
});

describe('latestCommitOf', () => {
  const change = (at: number) => ({ event: event('c', at) }) as KeyedChange;

  it('moves the mark to the latest commit of the batch, never back', () => {
    expect(latestCommitOf([change(5), change(9), change(7)], undefined)).toBe(9);
    expect(latestCommitOf([change(5)], 8)).toBe(8);
    expect(latestCommitOf([], 8)).toBe(8);
    expect(latestCommitOf([], undefined)).toBeUndefined();
  });
});
