import { defineMetric, ordersPerMinute, type MetricDefinition } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import {
  asAssignments,
  asSelectList,
  closingBoundary,
  emissionOfNewRow,
  emissionOfPending,
  emissionOfUpdatedRow,
  emitsOnWrite,
  pendingDue,
} from './emission';

const LATENESS = 60_000;
const policy = (emit: MetricDefinition['emit']): MetricDefinition =>
  defineMetric({
    ...ordersPerMinute,
    name: `orders_${emit.kind}`,
    emit,
    allowedLatenessMs: LATENESS,
  });
const onUpdate = policy({ kind: 'on_update' });
const every = policy({ kind: 'every', intervalMs: 5_000 });
const onClose = policy({ kind: 'on_window_close' });
const accumulator = { sql: '?::jsonb', bindings: ['{"count":1}'] };
const WATERMARK = Date.parse('2030-01-01T10:05:00Z');

describe('pendingDue', () => {
  it('emits everything pending under on_update, and under every when its interval is due', () => {
    expect(pendingDue(onUpdate, null, false)).toEqual({ kind: 'all' });
    expect(pendingDue(every, null, true)).toEqual({ kind: 'all' });
    expect(pendingDue(every, WATERMARK, true)).toEqual({ kind: 'all' });
  });

  it('emits windows the watermark has ended under on_window_close', () => {
    expect(pendingDue(onClose, WATERMARK, false)).toEqual({ kind: 'ended_by', endMs: WATERMARK });
    expect(pendingDue(onClose, null, false)).toEqual({ kind: 'none' });
  });

  it('between intervals, emits only windows about to close', () => {
    expect(pendingDue(every, WATERMARK, false)).toEqual({
      kind: 'ended_by',
      endMs: WATERMARK - LATENESS,
    });
    expect(pendingDue(every, null, false)).toEqual({ kind: 'none' });
  });
});

describe('closingBoundary', () => {
  it('closes windows ended before the watermark less the allowed lateness, once it is known', () => {
    for (const metric of [onUpdate, every, onClose]) {
      expect(closingBoundary(metric, WATERMARK)).toBe(WATERMARK - LATENESS);
      expect(closingBoundary(metric, null)).toBeNull();
    }
  });
});

describe('emission columns', () => {
  it('emits a new row at once only under on_update', () => {
    expect(emitsOnWrite(onUpdate)).toBe(true);
    expect(asSelectList(emissionOfNewRow(onUpdate, accumulator))).toEqual({
      sql: 'stream.accumulator_value(?, ?::jsonb), 1, false, clock_timestamp()',
      bindings: ['count', '{"count":1}'],
    });
    for (const metric of [every, onClose]) {
      expect(emitsOnWrite(metric)).toBe(false);
      expect(asSelectList(emissionOfNewRow(metric, accumulator))).toEqual({
        sql: 'NULL::numeric, 0, true, NULL::timestamptz',
        bindings: [],
      });
    }
  });

  it('re-emits an updated row with the next revision under on_update, else leaves it pending', () => {
    const merged = { sql: 'excluded.accumulator', bindings: [] };
    expect(asAssignments(emissionOfUpdatedRow(onUpdate, merged, 'v.revision'))).toEqual({
      sql:
        'value = stream.accumulator_value(?, excluded.accumulator), revision = v.revision + 1, ' +
        'pending = false, emitted_at = clock_timestamp()',
      bindings: ['count'],
    });
    expect(asAssignments(emissionOfUpdatedRow(onClose, merged, 'v.revision'))).toEqual({
      sql: 'pending = true',
      bindings: [],
    });
  });

  it('emits a pending row from its stored accumulator with the next revision', () => {
    expect(asAssignments(emissionOfPending(every))).toEqual({
      sql:
        'value = stream.accumulator_value(?, accumulator), revision = revision + 1, ' +
        'pending = false, emitted_at = clock_timestamp()',
      bindings: ['count'],
    });
  });
});
