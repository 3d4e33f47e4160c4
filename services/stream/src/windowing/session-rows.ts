import type { MetricDefinition } from '@tidemark/contracts';
import { sessionsOf, type Session, type SessionEntry } from './sessions';

/**
 * Which of a key's sessions have a provisional row (docs/stream-design.md, "Sessions: rows when
 * due"). A metric emitted on window close publishes a session once the watermark passes its
 * end: until then its row would be rewritten by every contribution (deleted and inserted again
 * whenever its end moves) and read by nobody, so the session lives in its key's state alone and
 * gets its row when it is due. Other policies publish open sessions, so every session has a row.
 *
 * A key's rows are described by one bound, `rowsUntilMs`: every session ending at or before it
 * has a row, no later one has. `Infinity`: every session (other policies, and state stored
 * before rows were deferred); `-Infinity`: none yet. Pure.
 */

/** Whether a metric's sessions get their rows only when due (see above). */
export function defersSessionRows(metric: MetricDefinition): boolean {
  return metric.window.kind === 'session' && metric.emit.kind === 'on_window_close';
}

/** A key's entries and the bound of its rows, before or after a change. */
export interface KeyRows {
  entries: readonly SessionEntry[];
  rowsUntilMs: number;
}

/** What a key's rows become. */
export interface SessionRowChange {
  /** Rows to delete: sessions that had one and are gone (merged, split, or their row withdrawn). */
  removed: Session[];
  /** Rows to write: sessions new to the rows, or whose entries changed. */
  written: Session[];
  /** The new bound of the key's rows. */
  rowsUntilMs: number;
  /**
   * When the key's earliest session without a row is due (its end), rounded down to
   * `DUE_GRANULARITY_MS`; null when every session has its row.
   */
  dueFromMs: number | null;
}

/**
 * The granularity of `dueFromMs`: a session's end moves with each contribution, and the stored
 * value is indexed, so it is rounded down to the minute (an update that leaves it unchanged
 * writes no index entry). A key is then read up to a minute early, and written only once due.
 */
export const DUE_GRANULARITY_MS = 60_000;

/**
 * The rows of a key whose entries go from `before.entries` to `after` (the same entries when
 * only the watermark moved), with the watermark now at `watermarkMs` (null: not known yet).
 * Deferred, rows reach every session ending by the watermark and stay where they were (a row
 * once written is not withdrawn because a watermark is behind); else every session has one.
 */
export function sessionRowChange(
  before: KeyRows,
  after: readonly SessionEntry[],
  gapMs: number,
  deferred: boolean,
  watermarkMs: number | null,
): SessionRowChange {
  const rowsUntilMs = deferred
    ? Math.max(
        // State stored before rows were deferred has every session's row: those not due yet
        // are withdrawn now.
        before.rowsUntilMs === Infinity ? -Infinity : before.rowsUntilMs,
        watermarkMs ?? -Infinity,
      )
    : Infinity;
  const had = sessionsOf(before.entries, gapMs).filter(
    (session) => session.endMs <= before.rowsUntilMs,
  );
  const sessions = sessionsOf(after, gapMs);
  const has = sessions.filter((session) => session.endMs <= rowsUntilMs);
  const unchanged = (session: Session) =>
    had.some(
      (old) =>
        sameBounds(old, session) &&
        old.entries.length === session.entries.length &&
        old.entries.every((entry, index) => entry === session.entries[index]),
    );
  const firstWithout = sessions.find((session) => session.endMs > rowsUntilMs);
  return {
    removed: had.filter((old) => !has.some((session) => sameBounds(old, session))),
    written: has.filter((session) => !unchanged(session)),
    rowsUntilMs,
    dueFromMs:
      firstWithout === undefined
        ? null
        : Math.floor(firstWithout.endMs / DUE_GRANULARITY_MS) * DUE_GRANULARITY_MS,
  };
}

/**
 * The sessions of a key's state that have no row yet (their values exist only in the state):
 * what readers of provisional values add to the rows for a deferred metric's open sessions.
 */
export function heldSessions(state: KeyRows, gapMs: number): Session[] {
  return sessionsOf(state.entries, gapMs).filter((session) => session.endMs > state.rowsUntilMs);
}

function sameBounds(a: Session, b: Session): boolean {
  return a.startMs === b.startMs && a.endMs === b.endMs;
}
