import { describe, expect, it } from 'vitest';
import { ordersV2, type ChangeEvent } from '@tidemark/contracts';
import {
  DEFAULT_PLAUSIBLE_TIMES,
  eventTimesOf,
  implausibleTime,
  isPlausibleTime,
  LSN_BYTES_PER_MS,
  LSN_SLACK_BYTES,
  LsnHorizon,
} from './plausibility';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const DAY = 86_400_000;

function change(createdAt: string, committedAtMs = NOW, capturedAtMs = NOW): ChangeEvent {
  return {
    op: 'c',
    before: null,
    after: { created_at: createdAt },
    source: { schema: 'shop', table: 'orders', lsn: 1, txId: 1, committedAtMs, snapshot: false },
    capturedAtMs,
    contractVersion: 2,
  };
}

describe('implausibleTime', () => {
  const judge = (event: ChangeEvent, kafkaMs = NOW) =>
    implausibleTime(
      event,
      ordersV2.eventTimeField,
      eventTimesOf(event, ordersV2),
      kafkaMs,
      DEFAULT_PLAUSIBLE_TIMES,
      NOW,
    )?.path;

  it('accepts times from 2000 to a day ahead of now', () => {
    expect(judge(change('2000-01-01T00:00:00Z', Date.parse('2000-01-01')))).toBeUndefined();
    expect(judge(change(new Date(NOW + DAY).toISOString(), NOW + DAY, NOW + DAY))).toBeUndefined();
  });

  it('names the first time outside the span', () => {
    expect(judge(change('1999-12-31T23:59:59Z'))).toBe('after.created_at');
    expect(judge(change('2026-12-06T12:00:00Z', NOW + DAY + 1))).toBe('source.ts_ms');
    expect(judge(change('2026-12-06T12:00:00Z', NOW, 0))).toBe('ts_ms');
    expect(judge(change('2026-12-06T12:00:00Z'), Number('not a number'))).toBe('kafka.timestamp');
  });

  it('says what the span is, and which settings move it', () => {
    const event = change('9999-01-01T00:00:00Z');
    const found = implausibleTime(
      event,
      ordersV2.eventTimeField,
      eventTimesOf(event, ordersV2),
      NOW,
      DEFAULT_PLAUSIBLE_TIMES,
      NOW,
    );
    expect(found?.message).toContain('9999-01-01T00:00:00.000Z is outside the plausible span');
    expect(found?.message).toContain('TIDEMARK_STREAM_PLAUSIBLE_FROM');
  });
});

describe('isPlausibleTime (a heartbeat is only believed within the span)', () => {
  it('believes now and a day ahead, not further, nor before 2000, nor no number', () => {
    expect(isPlausibleTime(NOW, DEFAULT_PLAUSIBLE_TIMES, NOW)).toBe(true);
    expect(isPlausibleTime(NOW + DAY, DEFAULT_PLAUSIBLE_TIMES, NOW)).toBe(true);
    expect(isPlausibleTime(NOW + DAY + 1, DEFAULT_PLAUSIBLE_TIMES, NOW)).toBe(false);
    expect(isPlausibleTime(Date.parse('1999-12-31'), DEFAULT_PLAUSIBLE_TIMES, NOW)).toBe(false);
    expect(isPlausibleTime(Number.NaN, DEFAULT_PLAUSIBLE_TIMES, NOW)).toBe(false);
  });
});

describe('LsnHorizon', () => {
  it('accepts the first LSN it sees, and any LSN at or below its reference', () => {
    const horizon = new LsnHorizon(undefined);
    expect(horizon.judge(5_000, NOW, NOW)).toBeUndefined();
    expect(horizon.judge(10, NOW, NOW)).toBeUndefined();
    expect(horizon.current()).toEqual({ lsn: 5_000, committedAtMs: NOW });
  });

  it('flags an LSN beyond the slack, and keeps its reference', () => {
    const horizon = new LsnHorizon({ lsn: 1_000, committedAtMs: NOW });
    expect(horizon.judge(1_000 + LSN_SLACK_BYTES, NOW, NOW)).toBeUndefined();
    expect(horizon.judge(2 * LSN_SLACK_BYTES + 2_000, NOW, NOW)?.path).toBe('source.lsn');
    expect(horizon.current()?.lsn).toBe(1_000 + LSN_SLACK_BYTES);
  });

  it('allows what the WAL could have grown by over the source time between the two', () => {
    const weekAgo = NOW - 7 * DAY;
    const horizon = new LsnHorizon({ lsn: 1_000, committedAtMs: weekAgo });
    const week = 7 * DAY * LSN_BYTES_PER_MS;
    expect(horizon.judge(1_000 + week, NOW, NOW)).toBeUndefined();
  });

  it('believes a commit time only up to now', () => {
    const horizon = new LsnHorizon({ lsn: 1_000, committedAtMs: NOW });
    // A forged commit time a day ahead buys no slack.
    expect(horizon.judge(1_000 + LSN_SLACK_BYTES + 1_000_000, NOW + DAY, NOW)?.path).toBe(
      'source.lsn',
    );
  });

  it('ignores a change without an LSN', () => {
    expect(new LsnHorizon(undefined).judge(null, NOW, NOW)).toBeUndefined();
  });
});
