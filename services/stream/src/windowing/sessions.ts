import type { Aggregate } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import {
  accumulate,
  aggregateSql,
  emptyAccumulator,
  type Accumulator,
  type MeasureValue,
} from './accumulator';
import type { Bind } from './sql-bind';

/** One row's contribution to a key's sessions. */
export interface SessionEntry {
  eventTimeMs: number;
  measure: MeasureValue;
}

/**
 * What the stream keeps per (metric, key) for session windows: the contributions of the sessions
 * still open, oldest first, and where the closed ones ended (an event before that instant would
 * have joined a closed session, so it is late).
 */
export interface SessionState {
  entries: SessionEntry[];
  closedUntilMs: number | null;
  /** Sessions ending at or before it have a provisional row, later ones not (`session-rows.ts`). */
  rowsUntilMs: number;
}

/** A session: events less than the gap apart; it ends one gap after its last event. */
export interface Session {
  startMs: number;
  endMs: number;
  entries: SessionEntry[];
}

/**
 * A key's entries as the warehouse stores them: the event times, and the measures beside them
 * only when one is measured (a count measures nothing), a fraction of the size of an array of
 * entry objects to read and rewrite.
 */
export interface CompactEntries {
  eventTimes: number[];
  measures: MeasureValue[] | null;
}

export function compactEntries(entries: readonly SessionEntry[]): CompactEntries {
  const eventTimes = entries.map((entry) => entry.eventTimeMs);
  const measured = entries.some((entry) => entry.measure !== null);
  return { eventTimes, measures: measured ? entries.map((entry) => entry.measure) : null };
}

/** The entries of stored compact state (bigint event times may come as strings). */
export function expandEntries(
  eventTimes: readonly (number | string)[],
  measures: readonly MeasureValue[] | null,
): SessionEntry[] {
  if (measures !== null && measures.length !== eventTimes.length) {
    throw new TidemarkError(
      'DECODE_FAILED',
      `stored session state has ${eventTimes.length} event times but ${measures.length} measures`,
      { context: { eventTimes: eventTimes.length, measures: measures.length } },
    );
  }
  return eventTimes.map((eventTime, index) => ({
    eventTimeMs: Number(eventTime),
    measure: measures === null ? null : (measures[index] ?? null),
  }));
}

export function emptySessionState(): SessionState {
  return { entries: [], closedUntilMs: null, rowsUntilMs: -Infinity };
}

/** The sessions of time-ordered entries: a new one starts wherever two events are a gap apart. */
export function sessionsOf(entries: readonly SessionEntry[], gapMs: number): Session[] {
  const sessions: Session[] = [];
  let current: Session | undefined;
  for (const entry of entries) {
    if (current && entry.eventTimeMs - (current.endMs - gapMs) < gapMs) {
      current.entries.push(entry);
      current.endMs = entry.eventTimeMs + gapMs;
    } else {
      current = { startMs: entry.eventTimeMs, endMs: entry.eventTimeMs + gapMs, entries: [entry] };
      sessions.push(current);
    }
  }
  return sessions;
}

/** The entries with one more, kept in event-time order (a new copy). */
export function withEntry(entries: readonly SessionEntry[], entry: SessionEntry): SessionEntry[] {
  const index = entries.findIndex((other) => other.eventTimeMs > entry.eventTimeMs);
  const copy = [...entries];
  copy.splice(index === -1 ? copy.length : index, 0, entry);
  return copy;
}

/** The entries with one equal to `entry` removed, or undefined when there is none. */
export function withoutEntry(
  entries: readonly SessionEntry[],
  entry: SessionEntry,
): SessionEntry[] | undefined {
  const index = entries.findIndex(
    (other) => other.eventTimeMs === entry.eventTimeMs && other.measure === entry.measure,
  );
  if (index === -1) return undefined;
  const copy = [...entries];
  copy.splice(index, 1);
  return copy;
}

/** The session of `entries` containing an event time, if any. */
export function sessionAt(
  entries: readonly SessionEntry[],
  gapMs: number,
  eventTimeMs: number,
): Session | undefined {
  return sessionsOf(entries, gapMs).find(
    (session) => session.startMs <= eventTimeMs && eventTimeMs < session.endMs,
  );
}

/** The aggregate state of one session. */
export function sessionAccumulator(aggregate: Aggregate, session: Session): Accumulator {
  const accumulator = emptyAccumulator();
  for (const entry of session.entries) accumulate(accumulator, aggregate, entry.measure, 1);
  return accumulator;
}

/**
 * Drops the entries of sessions closed by the watermark (ended, plus allowed lateness, at or
 * before it): their provisional values are final, and the state stays bounded.
 */
export function evictClosedSessions(
  state: SessionState,
  gapMs: number,
  allowedLatenessMs: number,
  watermarkMs: number | null,
): SessionState {
  if (watermarkMs === null) return state;
  let { closedUntilMs } = state;
  const entries: SessionEntry[] = [];
  for (const session of sessionsOf(state.entries, gapMs)) {
    if (session.endMs + allowedLatenessMs <= watermarkMs) {
      closedUntilMs = Math.max(closedUntilMs ?? session.endMs, session.endMs);
    } else {
      entries.push(...session.entries);
    }
  }
  return { ...state, entries, closedUntilMs };
}

/**
 * `sessionsOf` and `sessionAccumulator` in SQL, over a relation `events` (`key_values`,
 * `key_hash`, `t_ms`, `measure`): a session starts wherever an event is a gap or more after the
 * key's previous one. Yields the CTEs `ordered`, `numbered` and `sessions` (`key_values`,
 * `start_ms`, `end_ms`, `value`, `rows`), for the batch layer's final values.
 */
export function sessionsSql(aggregate: Aggregate, gapMs: number, bind: Bind): string {
  const gap = bind(gapMs);
  // Partitioned by the key's hash first: integer comparisons; both windows partition and order
  // by the same columns, so the events are sorted once.
  return `
      ordered AS (
        SELECT *, CASE WHEN t_ms - lag(t_ms) OVER (PARTITION BY key_hash, key_values ORDER BY t_ms)
                            < ${gap}
                       THEN 0 ELSE 1 END AS starts_session
          FROM events
      ), numbered AS (
        SELECT *, sum(starts_session) OVER (PARTITION BY key_hash, key_values ORDER BY t_ms
                                            ROWS UNBOUNDED PRECEDING) AS session
          FROM ordered
      ), sessions AS (
        SELECT key_values, min(t_ms) AS start_ms, max(t_ms) + ${gap} AS end_ms,
               ${aggregateSql(aggregate)} AS value, count(*) AS rows
          FROM numbered
         GROUP BY key_values, session
      )`;
}
