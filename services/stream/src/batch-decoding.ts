import { decodeChange, primaryKeyOf, type ContractOf } from '@tidemark/contracts';
import {
  toDeadLetter,
  toLandedChange,
  type DeadLetter,
  type DeadLetterReason,
  type LandedChange,
  type MessagePosition,
} from './landing';
import {
  eventTimesOf,
  implausibleTime,
  type LsnHorizon,
  type PlausibleTimes,
} from './plausibility';
import type { KeyedChange } from './windowing/plan';

/** A Kafka message as kafkajs hands it over. */
export interface BatchMessage {
  offset: string;
  timestamp: string;
  value: Buffer | null;
}

/** One message decoded: a change (with its raw-changelog row), a dead letter, or nothing. */
export type DecodedMessage =
  | {
      offset: bigint;
      kind: 'change';
      change: KeyedChange;
      landed: LandedChange;
      eventTimeMs: number | undefined;
    }
  | { offset: bigint; kind: 'dead_letter'; deadLetter: DeadLetter }
  | { offset: bigint; kind: 'tombstone' };

/** What decoding a partition's batch checks each message against. */
export interface BatchDecoding {
  /** The table the partition's topic carries. */
  table: string;
  /** The contract version each table's changes are checked against. */
  contractOf: ContractOf;
  /** The partition's LSN reference, moved by the changes accepted. */
  lsnHorizon: LsnHorizon;
  plausibleTimes: PlausibleTimes;
  maxMessageBytes: number;
  nowMs: number;
}

/**
 * Decodes a batch against the pipeline's contracts and the stream's plausibility checks. Pure (but
 * for the LSN horizon it moves) and done before the warehouse transaction, so the transaction
 * only holds its locks for the writes. Every message ends as a change, a dead letter or a
 * tombstone, whatever its bytes.
 */
export function decodeBatch(
  topic: string,
  partition: number,
  messages: readonly BatchMessage[],
  decoding: BatchDecoding,
): DecodedMessage[] {
  return messages.map((message): DecodedMessage => {
    const offset = BigInt(message.offset);
    const position = { topic, partition, offset: message.offset, timestamp: message.timestamp };
    try {
      return decodeMessage(message, offset, position, decoding);
    } catch (error) {
      const reason = `decoding failed unexpectedly: ${String(error)}`;
      return deadLetterOf(offset, position, message.value, 'DECODE_FAILED', '$', reason);
    }
  });
}

function decodeMessage(
  message: BatchMessage,
  offset: bigint,
  position: MessagePosition,
  decoding: BatchDecoding,
): DecodedMessage {
  const { table, nowMs, contractOf } = decoding;
  const decoded = decodeChange(message.value, contractOf, {
    table,
    maxMessageBytes: decoding.maxMessageBytes,
  });
  if (decoded.kind === 'error') {
    return { offset, kind: 'dead_letter', deadLetter: toDeadLetter(decoded.error, position) };
  }
  if (decoded.kind !== 'change') return { offset, kind: 'tombstone' };
  const { event } = decoded;
  const contract = contractOf(table);
  const eventTimes = eventTimesOf(event, contract);
  const implausible =
    implausibleTime(
      event,
      contract?.eventTimeField,
      eventTimes,
      Number(message.timestamp),
      decoding.plausibleTimes,
      nowMs,
    ) ?? decoding.lsnHorizon.judge(event.source.lsn, event.source.committedAtMs, nowMs);
  if (implausible) {
    const { path, message: why } = implausible;
    return deadLetterOf(offset, position, message.value, 'IMPLAUSIBLE', path, why);
  }
  const key = contract ? primaryKeyOf(event, contract) : null;
  return {
    offset,
    kind: 'change',
    change: { table, primaryKey: JSON.stringify(key ?? {}), event },
    landed: toLandedChange(event, key, position),
    // A delete's event time is its old row's: it says nothing about how far time has come.
    eventTimeMs: event.op === 'd' ? undefined : eventTimes[event.after ? 'after' : 'before'],
  };
}

/** A message the stream refuses, as a dead letter naming the one thing wrong with it. */
export function deadLetterOf(
  offset: bigint,
  position: MessagePosition,
  raw: Buffer | null,
  code: DeadLetterReason['code'],
  path: string,
  message: string,
): DecodedMessage {
  const reason: DeadLetterReason = { code, path, message, issues: [{ code, path, message }], raw };
  return { offset, kind: 'dead_letter', deadLetter: toDeadLetter(reason, position) };
}

/** What a batch brings from a given offset on: changes, raw rows, dead letters, event time. */
export interface BatchContents {
  changes: KeyedChange[];
  landed: LandedChange[];
  deadLetters: DeadLetter[];
  maxEventTimeMs: number | undefined;
  /** UTC days (yyyy-mm-dd) of the changes' source commits: the changelog partitions they need. */
  commitDays: string[];
}

export function contentsFrom(
  decoded: readonly DecodedMessage[],
  fromOffset: bigint | undefined,
  maxEventTimeMs: number | undefined,
): BatchContents {
  const contents: BatchContents = {
    changes: [],
    landed: [],
    deadLetters: [],
    maxEventTimeMs,
    commitDays: [],
  };
  for (const message of decoded) {
    if (fromOffset !== undefined && message.offset < fromOffset) continue;
    if (message.kind === 'dead_letter') contents.deadLetters.push(message.deadLetter);
    if (message.kind !== 'change') continue;
    contents.changes.push(message.change);
    contents.landed.push(message.landed);
    if (message.eventTimeMs !== undefined) {
      contents.maxEventTimeMs = Math.max(
        contents.maxEventTimeMs ?? message.eventTimeMs,
        message.eventTimeMs,
      );
    }
  }
  contents.commitDays = commitDaysOf(contents.landed);
  return contents;
}

/** UTC days (yyyy-mm-dd) of some changes' source commits, in order: the changelog partitions. */
export function commitDaysOf(landed: readonly Pick<LandedChange, 'committed_at'>[]): string[] {
  const days = new Set<number>();
  for (const change of landed) days.add(Math.floor(change.committed_at.getTime() / MS_PER_DAY));
  return [...days]
    .sort((a, b) => a - b)
    .map((day) => new Date(day * MS_PER_DAY).toISOString().slice(0, 10));
}

/** The changelog partitions a decoded batch needs, whatever its stored offset. */
export function commitDaysOfBatch(decoded: readonly DecodedMessage[]): string[] {
  return commitDaysOf(
    decoded.flatMap((message) => (message.kind === 'change' ? [message.landed] : [])),
  );
}

const MS_PER_DAY = 86_400_000;
