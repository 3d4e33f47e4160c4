import type { ChangeEvent, DeadLetterCode, Row } from '@tidemark/contracts';
import { replaceUnstorable } from '@tidemark/contracts';

/** Where a message sat in Kafka. */
export interface MessagePosition {
  topic: string;
  partition: number;
  offset: string;
  /** The record's timestamp (producer time), epoch milliseconds as kafkajs gives it. */
  timestamp: string;
}

/** A row of raw.change_events. */
export interface LandedChange {
  source_table: string;
  op: string;
  primary_key: Row;
  lsn: number;
  tx_id: number | null;
  committed_at: Date;
  captured_at: Date;
  before: Row | null;
  after: Row | null;
  contract_version: number | null;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: string;
  kafka_timestamp: Date;
}

/** A row of ops.dead_letters. */
export interface DeadLetter {
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: string;
  code: string;
  path: string;
  message: string;
  /** Every issue found (code, path, message), as JSON for the jsonb column. */
  issues: string;
  raw: Buffer;
}

/**
 * The raw-changelog row of a decoded change, given its primary key (`primaryKeyOf`); a truncate
 * lands with an empty key.
 */
export function toLandedChange(
  event: ChangeEvent,
  key: Row | null,
  position: MessagePosition,
): LandedChange {
  return {
    source_table: `${event.source.schema}.${event.source.table}`,
    op: event.op,
    primary_key: key ?? {},
    // A truncate may carry no LSN; its offset keeps it unique among the table's truncates.
    lsn: event.source.lsn ?? -Number(position.offset),
    tx_id: event.source.txId,
    committed_at: new Date(event.source.committedAtMs),
    captured_at: new Date(event.capturedAtMs),
    before: event.before,
    after: event.after,
    contract_version: event.contractVersion,
    kafka_topic: position.topic,
    kafka_partition: position.partition,
    kafka_offset: position.offset,
    kafka_timestamp: new Date(Number(position.timestamp)),
  };
}

/** Why a message is a dead letter: the decoder's error, or the stream's own verdict. */
export interface DeadLetterReason {
  code: DeadLetterCode;
  path: string;
  message: string;
  issues: readonly { code: string; path: string; message: string }[];
  raw: Buffer | null;
}

/** The longest text kept of a dead letter's path or message; the raw bytes are kept whole. */
const MAX_DEAD_LETTER_TEXT = 1_000;
/** The most issues kept of one dead letter. */
const MAX_DEAD_LETTER_ISSUES = 100;

/** The dead-letter row of a message that failed decoding, its contract or the stream's checks. */
export function toDeadLetter(reason: DeadLetterReason, position: MessagePosition): DeadLetter {
  const issues = reason.issues.slice(0, MAX_DEAD_LETTER_ISSUES).map((issue) => ({
    code: storableText(issue.code),
    path: storableText(issue.path),
    message: storableText(issue.message),
  }));
  return {
    kafka_topic: position.topic,
    kafka_partition: position.partition,
    kafka_offset: position.offset,
    code: reason.code,
    path: storableText(reason.path),
    message: storableText(reason.message),
    issues: JSON.stringify(issues),
    raw: reason.raw ?? Buffer.alloc(0),
  };
}

/**
 * Text PostgreSQL stores, short enough to read: an issue may quote what was wrong, NUL
 * characters and unpaired surrogates included, and a field name may be megabytes long.
 */
export function storableText(text: string): string {
  const clean = replaceUnstorable(text);
  if (clean.length <= MAX_DEAD_LETTER_TEXT) return clean;
  // Not between the two halves of a surrogate pair: half of one is not storable either.
  const cut = clean.slice(0, MAX_DEAD_LETTER_TEXT).replace(/[\ud800-\udbff]$/, '');
  return `${cut}… (${clean.length} characters)`;
}
