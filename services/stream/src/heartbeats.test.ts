import { describe, expect, it } from 'vitest';
import { heartbeatTime, readHeartbeats } from './heartbeats';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const TIMES = { earliestMs: Date.parse('2000-01-01T00:00:00Z'), aheadMs: 60_000 };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('heartbeatTime', () => {
  it('reads ts_ms with or without the converter schema envelope', () => {
    expect(heartbeatTime(json({ ts_ms: 1_700_000_000_000 }))).toBe(1_700_000_000_000);
    expect(heartbeatTime(json({ schema: {}, payload: { ts_ms: 42 } }))).toBe(42);
  });

  it('gives nothing for what is not a heartbeat', () => {
    expect(heartbeatTime(null)).toBeUndefined();
    expect(heartbeatTime(Buffer.from('not json'))).toBeUndefined();
    expect(heartbeatTime(json({ ts_ms: '1700000000000' }))).toBeUndefined();
    expect(heartbeatTime(json(null))).toBeUndefined();
  });
});

describe('readHeartbeats', () => {
  it('believes the plausible times and names the others by offset', () => {
    const readings = readHeartbeats(
      [
        { offset: '1', value: json({ ts_ms: NOW - 1_000 }) },
        { offset: '2', value: json({ ts_ms: NOW + 3_600_000 }) },
        { offset: '3', value: Buffer.from('{') },
        { offset: '4', value: json({ payload: { ts_ms: NOW } }) },
        { offset: '5', value: json({ ts_ms: 0 }) },
      ],
      TIMES,
      NOW,
    );
    expect(readings.times).toEqual([NOW - 1_000, NOW]);
    expect(readings.refused).toEqual([
      { offset: '2', tsMs: NOW + 3_600_000 },
      { offset: '5', tsMs: 0 },
    ]);
  });
});
