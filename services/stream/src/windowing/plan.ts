import type { ChangeEvent, MetricDefinition, Row } from '@tidemark/contracts';
import { accumulate, emptyAccumulator, isNeutral, type Accumulator } from './accumulator';
import { contributionOf, type Contribution } from './contribution';
import {
  emptySessionState,
  evictClosedSessions,
  sessionAccumulator,
  sessionAt,
  withEntry,
  withoutEntry,
  type Session,
  type SessionEntry,
  type SessionState,
} from './sessions';
import { defersSessionRows, sessionRowChange } from './session-rows';
import { windowsFor, type TimeWindow } from './windows';

/** A decoded change with its table and primary key, as the planner takes it. */
export interface KeyedChange {
  table: string;
  /** The row's primary key, JSON-encoded in key order. */
  primaryKey: string;
  event: ChangeEvent;
}

/**
 * Why a contribution was not applied to its window. `snapshot_unverified`: a snapshot read of a
 * row the stream had already applied, whose last applied image the raw changelog no longer
 * holds, so the stream cannot tell what to retract; it keeps the read out rather than count the
 * row twice.
 */
export const LATE_REASONS = [
  'late_beyond_lateness',
  'changed_after_close',
  'truncate',
  'snapshot_unverified',
] as const;
export type LateReason = (typeof LATE_REASONS)[number];

/** A contribution kept out of a closed window: the late ledger's row, never silently dropped. */
export interface LateContribution {
  metric: string;
  window: TimeWindow | null;
  groupKey: string | null;
  keyValues: unknown[] | null;
  table: string;
  primaryKey: string;
  lsn: number | null;
  op: ChangeEvent['op'];
  /** 1 for a row's new contribution, -1 for the retraction of its old one. */
  sign: 1 | -1;
  eventTimeMs: number | null;
  measure: Contribution['measure'];
  reason: LateReason;
  watermarkMs: number | null;
}

/** What a batch adds to (or retracts from) one fixed window of one key. */
export interface WindowDelta {
  metric: MetricDefinition;
  window: TimeWindow;
  groupKey: string;
  keyValues: unknown[];
  delta: Accumulator;
  /** The latest source commit among the contributions (for end-to-end latency). */
  lastCommittedAtMs: number;
}

/**
 * How one key's sessions changed in a batch: rows to delete, rows to write (of the sessions that
 * have rows, `session-rows.ts`), the state to keep.
 */
export interface SessionChange {
  metric: MetricDefinition;
  groupKey: string;
  keyValues: unknown[];
  removed: Session[];
  written: { session: Session; accumulator: Accumulator }[];
  state: SessionState;
  /** When the key's earliest session without a row is due (`session-rows.ts`); null: none. */
  dueFromMs: number | null;
  /** The latest source commit among the contributions; null: none (rows written when due). */
  lastCommittedAtMs: number | null;
}

/** What the planner needs to know beyond the batch itself, loaded by the caller. */
export interface PlannerState {
  /** Last applied LSN per row (`rowId(table, primaryKey)`), for the rows of the batch. */
  rowVersions: Map<string, number>;
  /** Session state per `sessionKey(metric, groupKey)`, for the keys the batch touches. */
  sessions: Map<string, SessionState>;
  /** Each metric's watermark when the batch started; null before it is known. */
  watermarks: Map<string, number | null>;
  /** See `PriorImages`; only needed for batches holding snapshot reads. */
  priorImages?: PriorImages;
}

/**
 * The after-image of each row's last applied change (null when that change deleted it), for the
 * batch's snapshot reads of rows the stream has already applied: a re-snapshot (the connector's
 * offsets were lost or reset) reads every row again, and such a read is an update from that
 * image. A row missing here has no known image.
 */
export type PriorImages = ReadonlyMap<string, Row | null>;

/** Contributions to session windows, per (metric, key), waiting for their keys' state. */
export interface PendingSessions {
  byKey: Map<string, { metric: MetricDefinition; groupKey: string; inputs: SignedContribution[] }>;
}

export interface BatchPlan {
  windowDeltas: WindowDelta[];
  /** Filled by `planBatch`; `planChanges` leaves it empty and returns `pendingSessions`. */
  sessionChanges: SessionChange[];
  pendingSessions: PendingSessions;
  late: LateContribution[];
  /** Rows whose last applied LSN moved, to store with the batch. */
  rowVersions: Map<string, { table: string; primaryKey: string; lsn: number }>;
  /** Changes already applied before (redelivered by Debezium or Kafka). */
  duplicates: number;
  applied: number;
}

export function rowId(table: string, primaryKey: string): string {
  return `${table}\u0000${primaryKey}`;
}

export function sessionKey(metric: string, groupKey: string): string {
  return `${metric}\u0000${groupKey}`;
}

/** What a contribution keeps of the change it came from: enough for the late ledger. */
export interface ChangeOrigin {
  table: string;
  primaryKey: string;
  event: {
    op: ChangeEvent['op'];
    source: Pick<ChangeEvent['source'], 'lsn' | 'committedAtMs'>;
  };
}

export interface SignedContribution {
  contribution: Contribution;
  sign: 1 | -1;
  change: ChangeOrigin;
}

/**
 * Turns a batch of changes into what it does to every metric. CDC is a changelog: an update
 * retracts the row's old contribution (`before`) and adds its new one (`after`), a delete
 * retracts, and a change whose LSN is not newer than the row's last applied one is a redelivery
 * and does nothing. Contributions to windows closed by the watermark (end plus allowed lateness)
 * go to the late ledger instead. Pure: the caller loads `state` and writes the plan.
 */
export function planBatch(
  changes: readonly KeyedChange[],
  metricsOf: (table: string) => readonly MetricDefinition[],
  state: PlannerState,
): BatchPlan {
  const plan = planChanges(changes, metricsOf, state);
  const sessions = planSessionChanges(plan.pendingSessions, state);
  plan.sessionChanges = sessions.sessionChanges;
  plan.late.push(...sessions.late);
  return plan;
}

/**
 * The first half of `planBatch`, which needs no session state: deduplication, retractions,
 * fixed windows and their late contributions; session contributions are left pending, so the
 * caller can lock the session keys as late in its transaction as possible.
 */
export function planChanges(
  changes: readonly KeyedChange[],
  metricsOf: (table: string) => readonly MetricDefinition[],
  state: {
    rowVersions: ReadonlyMap<string, number>;
    watermarks: ReadonlyMap<string, number | null>;
    priorImages?: PriorImages;
  },
): BatchPlan {
  const plan: BatchPlan = {
    windowDeltas: [],
    sessionChanges: [],
    pendingSessions: { byKey: new Map() },
    late: [],
    rowVersions: new Map(),
    duplicates: 0,
    applied: 0,
  };
  const versions = new Map(state.rowVersions);
  // The after-image of each row's latest change in this batch, for a snapshot read behind it;
  // kept only when the batch holds snapshot reads, so other batches pay nothing per change.
  const images = changes.some((change) => change.event.op === 'r')
    ? new Map<string, Row | null>()
    : undefined;
  const deltas = new Map<string, WindowDelta>();
  const sessionInputs = plan.pendingSessions.byKey;

  for (const change of changes) {
    const { event, table, primaryKey } = change;
    const lsn = event.source.lsn;
    const id = rowId(table, primaryKey);
    const previous = versions.get(id);
    if (lsn !== null && previous !== undefined && lsn <= previous) {
      plan.duplicates += 1;
      continue;
    }
    plan.applied += 1;
    if (event.op === 't') {
      for (const metric of metricsOf(table)) plan.late.push(truncateEntry(metric, change, state));
      continue;
    }
    if (lsn !== null) {
      versions.set(id, lsn);
      plan.rowVersions.set(id, { table, primaryKey, lsn });
    }
    // A snapshot read of a row already applied is an update from the row's last applied image.
    const reread = event.op === 'r' && previous !== undefined;
    const prior = reread ? (images?.has(id) ? images.get(id) : state.priorImages?.get(id)) : null;
    images?.set(id, event.after);
    for (const metric of metricsOf(table)) {
      const added = event.after !== null ? contributionOf(metric, event.after) : null;
      if (reread && prior === undefined) {
        if (added) plan.late.push(unverifiedEntry(metric, added, change, state));
        continue;
      }
      // A row never seen before (the stream started after it was written) has nothing to retract.
      const updated = previous !== undefined && (event.op === 'u' || event.op === 'd');
      const before = reread ? prior : updated ? event.before : null;
      const retracted = before ? contributionOf(metric, before) : null;
      if (reread && sameContribution(retracted, added)) continue;
      const signed: SignedContribution[] = [];
      if (retracted) signed.push({ contribution: retracted, sign: -1, change });
      if (added) signed.push({ contribution: added, sign: 1, change });
      if (metric.window.kind === 'session') {
        for (const item of signed) {
          const { groupKey } = item.contribution;
          const key = sessionKey(metric.name, groupKey);
          const pending = sessionInputs.get(key) ?? { metric, groupKey, inputs: [] };
          pending.inputs.push(item);
          sessionInputs.set(key, pending);
        }
      } else {
        for (const item of signed) addToWindows(metric, item, state, deltas, plan.late);
      }
    }
  }

  plan.windowDeltas = [...deltas.values()].filter((delta) => !isNeutral(delta.delta));
  return plan;
}

/** The second half of `planBatch`: the pending session contributions against their keys' state. */
export function planSessionChanges(
  pending: PendingSessions,
  state: {
    sessions: ReadonlyMap<string, SessionState>;
    watermarks: ReadonlyMap<string, number | null>;
  },
): { sessionChanges: SessionChange[]; late: LateContribution[] } {
  const sessionChanges: SessionChange[] = [];
  const late: LateContribution[] = [];
  for (const [key, { metric, inputs }] of pending.byKey) {
    const change = planSessions(metric, inputs, state.sessions.get(key), state, late);
    if (change) sessionChanges.push(change);
  }
  return { sessionChanges, late };
}

function lateReason(change: ChangeOrigin, sign: 1 | -1): LateReason {
  const fresh = (change.event.op === 'c' || change.event.op === 'r') && sign === 1;
  return fresh ? 'late_beyond_lateness' : 'changed_after_close';
}

/** Whether two contributions add the same to every window: a re-read that changes nothing. */
function sameContribution(a: Contribution | null, b: Contribution | null): boolean {
  if (a === null || b === null) return a === b;
  return a.groupKey === b.groupKey && a.eventTimeMs === b.eventTimeMs && a.measure === b.measure;
}

function unverifiedEntry(
  metric: MetricDefinition,
  contribution: Contribution,
  change: KeyedChange,
  state: { watermarks: ReadonlyMap<string, number | null> },
): LateContribution {
  const watermarkMs = state.watermarks.get(metric.name) ?? null;
  return lateEntry(
    metric,
    { contribution, sign: 1, change },
    null,
    watermarkMs,
    'snapshot_unverified',
  );
}

function lateEntry(
  metric: MetricDefinition,
  item: SignedContribution,
  window: TimeWindow | null,
  watermarkMs: number | null,
  reason: LateReason = lateReason(item.change, item.sign),
): LateContribution {
  const { contribution, sign, change } = item;
  return {
    metric: metric.name,
    window,
    groupKey: contribution.groupKey,
    keyValues: contribution.keyValues,
    table: change.table,
    primaryKey: change.primaryKey,
    lsn: change.event.source.lsn,
    op: change.event.op,
    sign,
    eventTimeMs: contribution.eventTimeMs,
    measure: contribution.measure,
    reason,
    watermarkMs,
  };
}

function truncateEntry(
  metric: MetricDefinition,
  change: KeyedChange,
  state: { watermarks: ReadonlyMap<string, number | null> },
): LateContribution {
  return {
    metric: metric.name,
    window: null,
    groupKey: null,
    keyValues: null,
    table: change.table,
    primaryKey: change.primaryKey,
    lsn: change.event.source.lsn,
    op: 't',
    sign: -1,
    eventTimeMs: null,
    measure: null,
    reason: 'truncate',
    watermarkMs: state.watermarks.get(metric.name) ?? null,
  };
}

function isClosed(window: TimeWindow, allowedLatenessMs: number, watermarkMs: number | null) {
  return watermarkMs !== null && window.endMs + allowedLatenessMs <= watermarkMs;
}

function addToWindows(
  metric: MetricDefinition,
  item: SignedContribution,
  state: { watermarks: ReadonlyMap<string, number | null> },
  deltas: Map<string, WindowDelta>,
  late: LateContribution[],
): void {
  if (metric.window.kind === 'session') return;
  const watermarkMs = state.watermarks.get(metric.name) ?? null;
  const { contribution, sign, change } = item;
  for (const window of windowsFor(metric.window, contribution.eventTimeMs)) {
    if (isClosed(window, metric.allowedLatenessMs, watermarkMs)) {
      late.push(lateEntry(metric, item, window, watermarkMs));
      continue;
    }
    const key = `${metric.name}\u0000${window.startMs}\u0000${contribution.groupKey}`;
    let delta = deltas.get(key);
    if (!delta) {
      delta = {
        metric,
        window,
        groupKey: contribution.groupKey,
        keyValues: contribution.keyValues,
        delta: emptyAccumulator(),
        lastCommittedAtMs: 0,
      };
      deltas.set(key, delta);
    }
    accumulate(delta.delta, metric.aggregate, contribution.measure, sign);
    delta.lastCommittedAtMs = Math.max(delta.lastCommittedAtMs, change.event.source.committedAtMs);
  }
}

/**
 * The rows of a key's sessions the watermark has now passed, for a metric whose rows wait until
 * due (`session-rows.ts`), with the key's state as it is stored: undefined when none is due.
 * Closed sessions are evicted from the state as when contributions arrive.
 */
export function planDueSessions(
  metric: MetricDefinition,
  key: { groupKey: string; keyValues: unknown[] },
  stored: SessionState,
  watermarkMs: number | null,
): SessionChange | undefined {
  if (metric.window.kind !== 'session' || !defersSessionRows(metric)) return undefined;
  const change = keySessionChange(
    metric,
    metric.window.gapMs,
    key,
    stored,
    stored.entries,
    watermarkMs,
    null,
  );
  return change.written.length === 0 && change.removed.length === 0 ? undefined : change;
}

/**
 * A key's sessions going from `initial` to `entries`: the rows to delete and write
 * (`session-rows.ts`), and the state to keep, its closed sessions evicted.
 */
function keySessionChange(
  metric: MetricDefinition,
  gapMs: number,
  key: { groupKey: string; keyValues: unknown[] },
  initial: SessionState,
  entries: SessionEntry[],
  watermarkMs: number | null,
  lastCommittedAtMs: number | null,
): SessionChange {
  const rows = sessionRowChange(initial, entries, gapMs, defersSessionRows(metric), watermarkMs);
  return {
    metric,
    groupKey: key.groupKey,
    keyValues: key.keyValues,
    removed: rows.removed,
    written: rows.written.map((session) => ({
      session,
      accumulator: sessionAccumulator(metric.aggregate, session),
    })),
    state: evictClosedSessions(
      { ...initial, entries, rowsUntilMs: rows.rowsUntilMs },
      gapMs,
      metric.allowedLatenessMs,
      watermarkMs,
    ),
    dueFromMs: rows.dueFromMs,
    lastCommittedAtMs,
  };
}

function planSessions(
  metric: MetricDefinition,
  inputs: readonly SignedContribution[],
  stored: SessionState | undefined,
  state: { watermarks: ReadonlyMap<string, number | null> },
  late: LateContribution[],
): SessionChange | undefined {
  if (metric.window.kind !== 'session') return undefined;
  const { gapMs } = metric.window;
  const lateness = metric.allowedLatenessMs;
  const watermarkMs = state.watermarks.get(metric.name) ?? null;
  const initial = stored ?? emptySessionState();
  let entries = initial.entries;
  let lastCommittedAtMs = 0;
  for (const item of inputs) {
    const { eventTimeMs, measure } = item.contribution;
    const entry = { eventTimeMs, measure };
    const joinsClosed = initial.closedUntilMs !== null && eventTimeMs < initial.closedUntilMs;
    const candidate = item.sign === 1 ? withEntry(entries, entry) : withoutEntry(entries, entry);
    const session = sessionAt(
      item.sign === 1 ? (candidate ?? entries) : entries,
      gapMs,
      eventTimeMs,
    );
    const closed = session !== undefined && isClosed(session, lateness, watermarkMs);
    if (joinsClosed || closed || candidate === undefined) {
      const window = session ? { startMs: session.startMs, endMs: session.endMs } : null;
      late.push(lateEntry(metric, item, window, watermarkMs));
      continue;
    }
    entries = candidate;
    lastCommittedAtMs = Math.max(lastCommittedAtMs, item.change.event.source.committedAtMs);
  }
  if (entries === initial.entries) return undefined;

  const first = inputs[0];
  const key = {
    groupKey: first?.contribution.groupKey ?? '[]',
    keyValues: first?.contribution.keyValues ?? [],
  };
  return keySessionChange(metric, gapMs, key, initial, entries, watermarkMs, lastCommittedAtMs);
}
