import { currentContract, decodeChange, primaryKeyOf } from '@tidemark/contracts';
import { toDeadLetter, toLandedChange, type DeadLetter, type LandedChange } from './landing';
import { eventTimeOf } from './windowing/contribution';
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

/**
 * Decodes a batch against the current contracts. Pure and done before the warehouse transaction,
 * so the transaction only holds its locks for the writes.
 */
export function decodeBatch(
  topic: string,
  partition: number,
  messages: readonly BatchMessage[],
): DecodedMessage[] {
  return messages.map((message): DecodedMessage => {
    const offset = BigInt(message.offset);
    const position = { topic, partition, offset: message.offset, timestamp: message.timestamp };
    const decoded = decodeChange(message.value, currentContract);
    if (decoded.kind === 'error') {
      return { offset, kind: 'dead_letter', deadLetter: toDeadLetter(decoded.error, position) };
    }
    if (decoded.kind !== 'change') return { offset, kind: 'tombstone' };
    const { event } = decoded;
    const table = `${event.source.schema}.${event.source.table}`;
    const contract = currentContract(table);
    const key = contract ? primaryKeyOf(event, contract) : null;
    // A delete's event time is its old row's: it says nothing about how far time has come.
    const image = event.op === 'd' ? null : (event.after ?? event.before);
    return {
      offset,
      kind: 'change',
      change: { table, primaryKey: JSON.stringify(key ?? {}), event },
      landed: toLandedChange(event, contract, position),
      eventTimeMs: contract && image ? eventTimeOf(image[contract.eventTimeField]) : undefined,
    };
  });
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
  const days = new Set<string>();
  for (const message of decoded) {
    if (fromOffset !== undefined && message.offset < fromOffset) continue;
    if (message.kind === 'dead_letter') contents.deadLetters.push(message.deadLetter);
    if (message.kind !== 'change') continue;
    contents.changes.push(message.change);
    contents.landed.push(message.landed);
    days.add(message.landed.committed_at.toISOString().slice(0, 10));
    if (message.eventTimeMs !== undefined) {
      contents.maxEventTimeMs = Math.max(
        contents.maxEventTimeMs ?? message.eventTimeMs,
        message.eventTimeMs,
      );
    }
  }
  contents.commitDays = [...days].sort();
  return contents;
}
