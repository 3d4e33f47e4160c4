import type { ChangeEvent, MetricDefinition } from '@tidemark/contracts';
import type { MeasureValue } from './windowing/accumulator';
import { sessionKey, type PendingSessions, type SignedContribution } from './windowing/plan';

/**
 * One contribution to a session window as a batch queues it (stream.session_inbox): metric,
 * group key, key values, event time, measure, sign, then the change it came from (table,
 * primary key, LSN, op, source commit time). A tuple: a batch queues thousands of them.
 */
export type QueuedSessionInput = [
  metric: string,
  groupKey: string,
  keyValues: unknown[],
  eventTimeMs: number,
  measure: MeasureValue,
  sign: 1 | -1,
  table: string,
  primaryKey: string,
  lsn: number | null,
  op: ChangeEvent['op'],
  committedAtMs: number,
];

/** Each metric's watermark when a batch was applied, as queued with it; null: none yet. */
export type QueuedWatermarks = Record<string, number | null>;

/**
 * The watermarks to hold session metrics to while batches are queued: for each session metric
 * the smallest of the current watermark and the queued batches' own (unknown if any is). So the
 * queue is judged no later than its batches were, and no session closes or is emitted past a
 * batch still queued; the other metrics keep their current watermark.
 */
export function watermarksBehindQueue(
  current: ReadonlyMap<string, number | null>,
  queued: readonly QueuedWatermarks[],
  sessionMetrics: readonly string[],
): Map<string, number | null> {
  const held = new Map(current);
  for (const metric of sessionMetrics) {
    let watermark = current.get(metric) ?? null;
    for (const batch of queued) {
      const then = batch[metric] ?? null;
      watermark = watermark === null || then === null ? null : Math.min(watermark, then);
    }
    held.set(metric, watermark);
  }
  return held;
}

/**
 * A batch's pending session contributions as queued inputs per emission shard of their key
 * (`shardOfKey`), key by key in the batch's order: each shard's are applied by its owner.
 */
export function queuedInputsByShard(
  pending: PendingSessions,
  shardOfKey: (metric: MetricDefinition, groupKey: string) => number,
): Map<number, QueuedSessionInput[]> {
  const byShard = new Map<number, QueuedSessionInput[]>();
  for (const { metric, groupKey, inputs } of pending.byKey.values()) {
    const shard = shardOfKey(metric, groupKey);
    let queued = byShard.get(shard);
    if (!queued) {
      queued = [];
      byShard.set(shard, queued);
    }
    for (const { contribution, sign, change } of inputs) {
      queued.push([
        metric.name,
        groupKey,
        contribution.keyValues,
        contribution.eventTimeMs,
        contribution.measure,
        sign,
        change.table,
        change.primaryKey,
        change.event.source.lsn,
        change.event.op,
        change.event.source.committedAtMs,
      ]);
    }
  }
  return byShard;
}

/**
 * Queued inputs back as pending session contributions, in queue order per key. Inputs of a
 * metric this process does not compute are returned apart, by metric name.
 */
export function pendingFromQueued(
  queued: readonly QueuedSessionInput[],
  metrics: readonly MetricDefinition[],
): { pending: PendingSessions; unknown: Map<string, number> } {
  const byName = new Map(metrics.map((metric) => [metric.name, metric]));
  const pending: PendingSessions = { byKey: new Map() };
  const unknown = new Map<string, number>();
  for (const input of queued) {
    const [name, groupKey, keyValues, eventTimeMs, measure, sign] = input;
    const [, , , , , , table, primaryKey, lsn, op, committedAtMs] = input;
    const metric = byName.get(name);
    if (!metric) {
      unknown.set(name, (unknown.get(name) ?? 0) + 1);
      continue;
    }
    const key = sessionKey(name, groupKey);
    let entry = pending.byKey.get(key);
    if (!entry) {
      entry = { metric, groupKey, inputs: [] };
      pending.byKey.set(key, entry);
    }
    const contribution: SignedContribution = {
      contribution: { groupKey, keyValues, eventTimeMs, measure },
      sign,
      change: { table, primaryKey, event: { op, source: { lsn, committedAtMs } } },
    };
    entry.inputs.push(contribution);
  }
  return { pending, unknown };
}

/**
 * The queued batches this process may apply, oldest first: those before the first batch with
 * contributions to a metric it does not compute (queued by another version of the pipeline,
 * during a rolling deploy say). That batch and those after it stay queued for a consumer that
 * computes every metric they hold: applying them here would lose those contributions, and
 * skipping one would apply its successors out of order. `heldBackBy` names the missing metrics.
 */
export function applicableBatches<T extends { inputs: readonly QueuedSessionInput[] }>(
  batches: readonly T[],
  metrics: readonly MetricDefinition[],
): { applicable: T[]; heldBackBy: string[] } {
  const known = new Set(metrics.map((metric) => metric.name));
  for (const [index, batch] of batches.entries()) {
    const missing = new Set(batch.inputs.map(([name]) => name).filter((name) => !known.has(name)));
    if (missing.size > 0) {
      return { applicable: batches.slice(0, index), heldBackBy: [...missing].sort() };
    }
  }
  return { applicable: [...batches], heldBackBy: [] };
}
