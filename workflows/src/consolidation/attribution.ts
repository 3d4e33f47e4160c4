import type { Aggregate } from '@tidemark/contracts';
import {
  accumulate,
  emptyAccumulator,
  mergeAccumulator,
  resultOf,
  sessionAccumulator,
  sessionsOf,
  type Accumulator,
  type MeasureValue,
  type SessionEntry,
} from '@tidemark/stream/windowing';
import { sameValue, type ReconciliationCause } from './reconcile';

// Differences between provisional and final values attributed to the changes that caused them:
// the contributions the stream kept out of its provisional values (the late ledger), replayed
// with the stream's own operators. A fixed window is explained when its provisional state plus
// what was kept out of it gives the final value; a key's sessions are explained when the final
// events without what was kept out make exactly the provisional sessions (which covers late
// contributions that merge, extend or split sessions, whatever bounds the ledger recorded).
// Pure: the reconciliation activity loads the rows and stores the verdicts.

/** A contribution the stream kept out of its provisional values: a row of the late ledger. */
export interface KeptOutContribution {
  /** The window it was kept out of; null when none was known (a truncate, an unverified read). */
  window: { startMs: number; endMs: number } | null;
  eventTimeMs: number | null;
  measure: MeasureValue;
  sign: 1 | -1;
  /** The ledger's reason (`LATE_REASONS`). */
  reason: string;
  /** Carried by a dead letter replayed after its window had closed. */
  replayed: boolean;
  /** The source table of the change. */
  table: string;
}

/** Why a window differs, and in words what explains it or, when nothing does, what was compared. */
export interface Attribution {
  cause: ReconciliationCause;
  explanation: string | null;
}

/** A session window of one key, with its value. */
export interface SessionWindow {
  startMs: number;
  endMs: number;
  value: number | null;
}

/** Null and 0 are the same value of a window that is absent on one side (a count of nothing). */
export function sameWindowValue(provisional: number | null, final: number | null): boolean {
  const a = provisional === 0 && final === null ? null : provisional;
  const b = final === 0 && provisional === null ? null : final;
  return sameValue(a, b);
}

/**
 * A fixed (tumbling or hopping) window: its provisional state, plus every contribution kept out
 * of it, must give the final value. `keptOut` are the key's contributions recorded for this
 * window, and those recorded without a window whose event time falls in it.
 */
export function attributeFixedWindow(
  aggregate: Aggregate,
  window: { provisional: Accumulator | null; final: number | null },
  keptOut: readonly KeptOutContribution[],
): Attribution {
  const provisional = window.provisional ? numeric(resultOf(aggregate, window.provisional)) : null;
  if (sameWindowValue(provisional, window.final)) return { cause: 'exact', explanation: null };
  const expected = emptyAccumulator();
  if (window.provisional) mergeAccumulator(expected, window.provisional);
  for (const item of keptOut) accumulate(expected, aggregate, item.measure, item.sign);
  const replayed = numeric(resultOf(aggregate, expected));
  const accounted = keptOut.length > 0 && sameWindowValue(replayed, window.final);
  if (accounted) return { cause: causeOf(keptOut), explanation: describe(keptOut) };
  return {
    cause: 'unexplained',
    explanation:
      keptOut.length === 0
        ? `provisional ${show(provisional)}, final ${show(window.final)}, nothing kept out by the stream`
        : `provisional ${show(provisional)} with the ${contributions(keptOut.length)} kept out ` +
          `(${describe(keptOut)}) gives ${show(replayed)}, final ${show(window.final)}`,
  };
}

/**
 * A key's session windows. The final events of the key (the batch layer's, over the metric's
 * event range) without what the stream kept out are the events the stream applied; their
 * sessions starting in the range must be the provisional ones, bounds and values. When they
 * are, every differing window of the key is explained by the kept-out contributions around it;
 * when not, each is unexplained, with what was compared.
 */
export function attributeSessions(
  metric: { aggregate: Aggregate; gapMs: number },
  range: { startMs: number; endMs: number },
  key: {
    provisional: readonly SessionWindow[];
    final: readonly SessionWindow[];
    finalEvents: readonly SessionEntry[];
    /** Whether a window is compared at all (the pipeline saw all of it); all when absent. */
    observed?: (window: SessionWindow) => boolean;
  },
  keptOut: readonly KeptOutContribution[],
): Map<string, Attribution> {
  const { aggregate, gapMs } = metric;
  const applied = appliedEvents(aggregate, key.finalEvents, keptOut);
  const derived =
    applied === undefined
      ? undefined
      : sessionsOf(applied, gapMs)
          .filter((session) => session.startMs >= range.startMs && session.startMs < range.endMs)
          .map((session) => ({
            startMs: session.startMs,
            endMs: session.endMs,
            value: numeric(resultOf(aggregate, sessionAccumulator(aggregate, session))),
          }))
          .filter((session) => key.observed?.(session) ?? true);
  const explained = derived !== undefined && sameSessions(derived, key.provisional);
  const verdicts = new Map<string, Attribution>();
  const differing = [
    ...key.final.filter((window) => !findSame(key.provisional, window)),
    ...key.provisional.filter((window) => !findSame(key.final, window)),
  ];
  for (const window of differing) {
    const id = sessionWindowId(window);
    if (verdicts.has(id)) continue;
    if (!explained) {
      verdicts.set(id, {
        cause: 'unexplained',
        explanation:
          derived === undefined
            ? `a contribution kept out by the stream is not among the final events ` +
              `(${keptOut.length} kept out, ${key.finalEvents.length} final events)`
            : keptOut.length === 0
              ? `provisional ${showSessions(key.provisional)}, final ` +
                `${showSessions(key.final)}, nothing kept out by the stream`
              : `the final events without the ${contributions(keptOut.length)} kept out ` +
                `(${describe(keptOut)}) make sessions ${showSessions(derived)}; provisional ` +
                showSessions(key.provisional),
      });
      continue;
    }
    const isFinal = key.final.includes(window);
    const counterparts = (isFinal ? key.provisional : key.final).filter((other) =>
      overlaps(other, window),
    );
    const span = [window, ...counterparts];
    const fromMs = Math.min(...span.map((item) => item.startMs)) - gapMs;
    const untilMs = Math.max(...span.map((item) => item.endMs));
    const around = keptOut.filter(
      (item) =>
        item.eventTimeMs !== null && item.eventTimeMs >= fromMs && item.eventTimeMs < untilMs,
    );
    const causes = around.length > 0 ? around : keptOut;
    verdicts.set(id, {
      cause: causes.length > 0 ? causeOf(causes) : 'unexplained',
      explanation: `${sessionChange(isFinal, window, counterparts)} by ${describe(causes)}`,
    });
  }
  return verdicts;
}

/** How a session window relates to the other side's windows it overlaps. */
function sessionChange(
  isFinal: boolean,
  window: SessionWindow,
  counterparts: readonly SessionWindow[],
): string {
  if (isFinal) {
    if (counterparts.length === 0) return 'session formed';
    if (counterparts.length > 1) return `session merged from ${counterparts.length} provisional`;
    const [only] = counterparts;
    return only && only.startMs === window.startMs && only.endMs === window.endMs
      ? 'session value changed'
      : 'session extended';
  }
  if (counterparts.length === 0) return 'provisional session removed';
  if (counterparts.length > 1) return `provisional session split into ${counterparts.length}`;
  return 'provisional session replaced';
}

/** A key used to match a session window across both sides. */
export function sessionWindowId(window: { startMs: number; endMs: number }): string {
  return `${window.startMs}/${window.endMs}`;
}

/**
 * The events the stream applied, as a multiset taken from the final events: late additions
 * removed, retractions it could not apply put back. Undefined when an addition is not among
 * the final events (something else changed that row: nothing here can account for it).
 */
function appliedEvents(
  aggregate: Aggregate,
  finalEvents: readonly SessionEntry[],
  keptOut: readonly KeptOutContribution[],
): SessionEntry[] | undefined {
  const events = finalEvents.map((entry) => normalised(aggregate, entry));
  for (const item of keptOut) {
    if (item.eventTimeMs === null) continue;
    const entry = normalised(aggregate, { eventTimeMs: item.eventTimeMs, measure: item.measure });
    if (item.sign === -1) {
      events.push(entry);
      continue;
    }
    const index = events.findIndex(
      (other) => other.eventTimeMs === entry.eventTimeMs && other.measure === entry.measure,
    );
    if (index === -1) return undefined;
    events.splice(index, 1);
  }
  return events.sort((a, b) => a.eventTimeMs - b.eventTimeMs);
}

/**
 * A measure as both sides can compare it: the batch reads numbers as SQL numerics (strings),
 * the stream keeps them as numbers; a count measures nothing.
 */
function normalised(aggregate: Aggregate, entry: SessionEntry): SessionEntry {
  const { measure } = entry;
  if (aggregate.fn === 'count' || measure === null) return { ...entry, measure: null };
  if (aggregate.fn === 'count_distinct') return { ...entry, measure: String(measure) };
  const number = Number(measure);
  return { ...entry, measure: Number.isFinite(number) ? number : String(measure) };
}

function sameSessions(a: readonly SessionWindow[], b: readonly SessionWindow[]): boolean {
  return a.length === b.length && a.every((window) => findSame(b, window));
}

function findSame(windows: readonly SessionWindow[], window: SessionWindow): boolean {
  return windows.some(
    (other) =>
      other.startMs === window.startMs &&
      other.endMs === window.endMs &&
      sameWindowValue(other.value, window.value),
  );
}

function overlaps(a: SessionWindow, b: SessionWindow): boolean {
  return a.startMs < b.endMs && b.startMs < a.endMs;
}

/**
 * The cause of a difference the kept-out contributions explain, most specific first: too late,
 * a change to a closed window, a truncate, offsets Kafka deleted before the pipeline read them,
 * then a dead letter replayed after its window closed.
 */
function causeOf(keptOut: readonly KeptOutContribution[]): ReconciliationCause {
  const reasons = new Set(keptOut.filter((item) => !item.replayed).map((item) => item.reason));
  if (reasons.has('late_beyond_lateness')) return 'late_beyond_lateness';
  if (reasons.has('changed_after_close') || reasons.has('snapshot_unverified')) {
    return 'changed_after_close';
  }
  if (reasons.has('truncate')) return 'truncated';
  if (reasons.has('gap')) return 'kafka_gap';
  return 'dead_lettered';
}

const REASON_WORDS: Record<string, [string, string]> = {
  late_beyond_lateness: ['late change', 'late changes'],
  changed_after_close: ['change after close', 'changes after close'],
  truncate: ['row removed by a truncate', 'rows removed by a truncate'],
  gap: ['change Kafka deleted unread', 'changes Kafka deleted unread'],
  snapshot_unverified: ['unverified snapshot read', 'unverified snapshot reads'],
};

/** In words, e.g. "3 late changes of shop.orders (+3), 1 replayed dead letter (+1)". */
export function describe(keptOut: readonly KeptOutContribution[]): string {
  const groups = new Map<string, { count: number; net: number; words: [string, string] }>();
  for (const item of keptOut) {
    const words: [string, string] = item.replayed
      ? ['replayed dead letter', 'replayed dead letters']
      : (REASON_WORDS[item.reason] ?? [item.reason, item.reason]);
    const label = `${words[0]}\u0000${item.table}`;
    const group = groups.get(label) ?? { count: 0, net: 0, words };
    group.count += 1;
    group.net += item.sign;
    groups.set(label, group);
  }
  return [...groups.entries()]
    .map(([label, { count, net, words }]) => {
      const table = label.split('\u0000')[1];
      const signed = net > 0 ? `+${net}` : net < 0 ? `−${-net}` : '±0';
      return `${count} ${count === 1 ? words[0] : words[1]} of ${table} (${signed})`;
    })
    .join(', ');
}

function numeric(value: number | string | null): number | null {
  if (value === null) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function contributions(count: number): string {
  return `${count} contribution${count === 1 ? '' : 's'}`;
}

function show(value: number | null): string {
  return value === null ? 'none' : String(value);
}

function showSessions(windows: readonly SessionWindow[]): string {
  if (windows.length === 0) return 'none';
  const shown = [...windows]
    .sort((a, b) => a.startMs - b.startMs)
    .slice(0, 5)
    .map(
      (window) =>
        `${new Date(window.startMs).toISOString().slice(11, 16)}–` +
        `${new Date(window.endMs).toISOString().slice(11, 16)} (${show(window.value)})`,
    );
  return `${shown.join(', ')}${windows.length > 5 ? `, … ${windows.length} in all` : ''}`;
}
