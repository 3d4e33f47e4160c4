import { isPlausibleTime, type PlausibleTimes } from './plausibility';

// Debezium's heartbeat topic: the source database's clock while no change arrives.

/** The source commit time a Debezium heartbeat carries, if it is one. */
export function heartbeatTime(value: Buffer | null): number | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as {
      ts_ms?: unknown;
      payload?: { ts_ms?: unknown };
    };
    const ts = parsed.ts_ms ?? parsed.payload?.ts_ms;
    return typeof ts === 'number' ? ts : undefined;
  } catch {
    return undefined;
  }
}

/** What a batch of heartbeats says: the source clock's readings, and those not believed. */
export interface HeartbeatReadings {
  /** Source commit times, in the batch's order. */
  times: number[];
  /** Heartbeats whose time is outside the plausible span: a clock that cannot be true. */
  refused: { offset: string; tsMs: number }[];
}

/** Reads a batch of heartbeat messages; messages that are not heartbeats are passed over. */
export function readHeartbeats(
  messages: readonly { offset: string; value: Buffer | null }[],
  plausibleTimes: PlausibleTimes,
  nowMs: number,
): HeartbeatReadings {
  const readings: HeartbeatReadings = { times: [], refused: [] };
  for (const message of messages) {
    const tsMs = heartbeatTime(message.value);
    if (tsMs === undefined) continue;
    if (isPlausibleTime(tsMs, plausibleTimes, nowMs)) readings.times.push(tsMs);
    else readings.refused.push({ offset: message.offset, tsMs });
  }
  return readings;
}
