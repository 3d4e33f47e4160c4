import { customerSessions, ordersPerMinute } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import {
  defersSessionRows,
  DUE_GRANULARITY_MS,
  heldSessions,
  sessionRowChange,
} from './session-rows';
import type { SessionEntry } from './sessions';

const GAP = 1_000;
const entries = (...times: number[]): SessionEntry[] =>
  times.map((eventTimeMs) => ({ eventTimeMs, measure: null }));
const bounds = (sessions: readonly { startMs: number; endMs: number }[]) =>
  sessions.map((session) => [session.startMs, session.endMs]);

describe('session rows', () => {
  it('are deferred for session metrics emitted on window close only', () => {
    expect(defersSessionRows(customerSessions)).toBe(true);
    expect(defersSessionRows({ ...customerSessions, emit: { kind: 'on_update' } })).toBe(false);
    expect(defersSessionRows(ordersPerMinute)).toBe(false);
  });

  it('deferred: a session gets its row once the watermark passes its end, and is due from then', () => {
    const open = sessionRowChange(
      { entries: [], rowsUntilMs: -Infinity },
      entries(0, 500, 5_000),
      GAP,
      true,
      1_400,
    );
    expect(bounds(open.written)).toEqual([]);
    expect(open.rowsUntilMs).toBe(1_400);
    // The first session ends at 1,500, rounded down to the granularity.
    expect(open.dueFromMs).toBe(0);
    const due = sessionRowChange(
      { entries: entries(0, 500, 5_000), rowsUntilMs: 1_400 },
      entries(0, 500, 5_000),
      GAP,
      true,
      1_500,
    );
    expect(bounds(due.written)).toEqual([[0, 1_500]]);
    expect(due.dueFromMs).toBe(Math.floor(6_000 / DUE_GRANULARITY_MS) * DUE_GRANULARITY_MS);
    expect(
      bounds(heldSessions({ entries: entries(0, 500, 5_000), rowsUntilMs: 1_500 }, GAP)),
    ).toEqual([[5_000, 6_000]]);
  });

  it('deferred: a row once written stays when the watermark is behind it, and moves with its session', () => {
    const change = sessionRowChange(
      { entries: entries(0), rowsUntilMs: 2_000 },
      entries(0, 900),
      GAP,
      true,
      500,
    );
    expect(change.rowsUntilMs).toBe(2_000);
    expect(bounds(change.removed)).toEqual([[0, 1_000]]);
    expect(bounds(change.written)).toEqual([[0, 1_900]]);
    expect(change.dueFromMs).toBeNull();
  });

  it('deferred: a row is withdrawn when its session grows past the rows, until due again', () => {
    const change = sessionRowChange(
      { entries: entries(0), rowsUntilMs: 1_000 },
      entries(0, 900),
      GAP,
      true,
      1_000,
    );
    expect(bounds(change.removed)).toEqual([[0, 1_000]]);
    expect(change.written).toEqual([]);
    expect(change.dueFromMs).toBe(0);
  });

  it('deferred, on state stored before rows were deferred: the rows of sessions not due are withdrawn', () => {
    // The planner keeps the entry objects it did not change.
    const stored = entries(0, 5_000);
    const change = sessionRowChange(
      { entries: stored, rowsUntilMs: Infinity },
      [...stored, ...entries(5_100)],
      GAP,
      true,
      2_000,
    );
    expect(change.rowsUntilMs).toBe(2_000);
    expect(bounds(change.removed)).toEqual([[5_000, 6_000]]);
    expect(change.written).toEqual([]);
  });

  it('not deferred: every session has its row, whatever the watermark', () => {
    const change = sessionRowChange(
      { entries: entries(0), rowsUntilMs: -Infinity },
      entries(0, 5_000),
      GAP,
      false,
      null,
    );
    expect(change.rowsUntilMs).toBe(Infinity);
    expect(bounds(change.written)).toEqual([
      [0, 1_000],
      [5_000, 6_000],
    ]);
    expect(change.dueFromMs).toBeNull();
  });
});
