import type { ChangeEvent, DecodeError, EventContract, Row } from '@tidemark/contracts';
import { primaryKeyOf } from '@tidemark/contracts';

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

/** The raw-changelog row of a decoded change; a truncate lands with an empty key. */
export function toLandedChange(
  event: ChangeEvent,
  contract: EventContract | undefined,
  position: MessagePosition,
): LandedChange {
  const key = contract ? primaryKeyOf(event, contract) : null;
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

/** The dead-letter row of a message that failed decoding or its contract. */
export function toDeadLetter(error: DecodeError, position: MessagePosition): DeadLetter {
  return {
    kafka_topic: position.topic,
    kafka_partition: position.partition,
    kafka_offset: position.offset,
    code: error.code,
    path: error.path,
    message: error.message,
    issues: JSON.stringify(error.issues),
    raw: error.raw,
  };
}
