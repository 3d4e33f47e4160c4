import type { ChangeEvent, EventContract } from '@tidemark/contracts';
import { eventTimeOf } from './windowing/contribution';

/**
 * Whether a well-formed change can be true. Its times drive watermarks (a time far ahead closes
 * every window) and name the changelog's day partitions; its LSN orders a row's versions (one far
 * ahead makes every later real change of the row look like a duplicate). A change that cannot be
 * true becomes a dead letter, kept whole and replayable, never a clock or a row version.
 */

/** The span of time a change's times may fall in, as the stream is configured. */
export interface PlausibleTimes {
  /** The earliest time a change may carry (default 2000-01-01). */
  earliestMs: number;
  /** How far ahead of the stream's clock a time may be (default one day: clock skew). */
  aheadMs: number;
}

export const DEFAULT_PLAUSIBLE_TIMES: PlausibleTimes = {
  earliestMs: Date.UTC(2000, 0, 1),
  aheadMs: 86_400_000,
};

/** Why a change cannot be true: the field and what is wrong with it. */
export interface Implausibility {
  path: string;
  message: string;
}

/**
 * The event time of each row image that has one (absent: the image or its field is missing;
 * undefined: the value is not a time), parsed once for the checks and the watermark alike.
 */
export type ImageEventTimes = Partial<Record<'before' | 'after', number | undefined>>;

export function eventTimesOf(
  event: ChangeEvent,
  contract: EventContract | undefined,
): ImageEventTimes {
  const times: ImageEventTimes = {};
  if (!contract) return times;
  for (const image of ['before', 'after'] as const) {
    const value = event[image]?.[contract.eventTimeField];
    if (value !== null && value !== undefined) times[image] = eventTimeOf(value);
  }
  return times;
}

/** The first time of a change outside the plausible span, or undefined. */
export function implausibleTime(
  event: ChangeEvent,
  eventTimeField: string | undefined,
  eventTimes: ImageEventTimes,
  kafkaTimestampMs: number,
  times: PlausibleTimes,
  nowMs: number,
): Implausibility | undefined {
  return (
    implausible('source.ts_ms', event.source.committedAtMs, times, nowMs) ??
    implausible('ts_ms', event.capturedAtMs, times, nowMs) ??
    implausible('kafka.timestamp', kafkaTimestampMs, times, nowMs) ??
    ('before' in eventTimes
      ? implausible(`before.${eventTimeField}`, eventTimes.before, times, nowMs)
      : undefined) ??
    ('after' in eventTimes
      ? implausible(`after.${eventTimeField}`, eventTimes.after, times, nowMs)
      : undefined)
  );
}

function implausible(
  path: string,
  ms: number | undefined,
  times: PlausibleTimes,
  nowMs: number,
): Implausibility | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return { path, message: 'not a time' };
  if (isPlausibleTime(ms, times, nowMs)) return undefined;
  return {
    path,
    message:
      `${describeTime(ms)} is outside the plausible span ${describeTime(times.earliestMs)} ` +
      `to ${describeTime(nowMs + times.aheadMs)} (TIDEMARK_STREAM_PLAUSIBLE_FROM, _AHEAD)`,
  };
}

/** Whether a time (a Debezium heartbeat's, say) falls in the plausible span. */
export function isPlausibleTime(ms: number, times: PlausibleTimes, nowMs: number): boolean {
  return Number.isFinite(ms) && ms >= times.earliestMs && ms <= nowMs + times.aheadMs;
}

function describeTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** A partition's highest accepted LSN and the source commit time it came with. */
export interface LsnReference {
  lsn: number;
  committedAtMs: number;
}

/**
 * How far a partition's LSN may move ahead of its reference: the WAL a very busy PostgreSQL
 * writes (1 GiB/s) over the source time between them, plus 64 GiB. A week of a quiet table on a
 * busy database is well within it; 2^53 (a forged LSN) is years of such a database's WAL.
 */
export const LSN_SLACK_BYTES = 64 * 2 ** 30;
export const LSN_BYTES_PER_MS = 2 ** 30 / 1000;

/**
 * Judges the LSNs of one partition's changes in order against the highest accepted so far: an
 * LSN further ahead than the WAL could have grown is flagged, and does not move the reference.
 */
export class LsnHorizon {
  constructor(private reference: LsnReference | undefined) {}

  /** Why this LSN cannot be true, or undefined (and the reference follows it). */
  judge(lsn: number | null, committedAtMs: number, nowMs: number): Implausibility | undefined {
    if (lsn === null) return undefined;
    const reference = this.reference;
    if (reference && lsn > reference.lsn) {
      // The change's own commit time is only believed up to now: it may be forged too.
      const elapsedMs = Math.max(0, Math.min(committedAtMs, nowMs) - reference.committedAtMs);
      const limit = reference.lsn + LSN_SLACK_BYTES + elapsedMs * LSN_BYTES_PER_MS;
      if (lsn > limit) {
        return {
          path: 'source.lsn',
          message:
            `LSN ${lsn} is ${lsn - reference.lsn} bytes of WAL ahead of this partition's ` +
            `${reference.lsn}, more than the source could have written since (at most ${Math.floor(limit - reference.lsn)})`,
        };
      }
    }
    if (!reference || lsn > reference.lsn) this.reference = { lsn, committedAtMs };
    return undefined;
  }

  /** The highest accepted LSN, to be stored with the partition's position. */
  current(): LsnReference | undefined {
    return this.reference;
  }
}
