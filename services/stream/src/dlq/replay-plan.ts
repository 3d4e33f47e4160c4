import type {
  ChangeEvent,
  ChangeOp,
  DeadLetterCode,
  DecodeError,
  DecodeResult,
} from '@tidemark/contracts';

/** A dead letter as replay needs it: its raw bytes and where Kafka had it. */
export interface DeadLetterRecord {
  id: number;
  raw: Buffer | null;
  kafkaTopic: string;
  kafkaPartition: number;
  kafkaOffset: string;
  receivedAt: Date;
}

/** One validation issue of a dead letter (the contracts' `DecodeError` issues). */
export type DeadLetterIssue = DecodeError['issues'][number];

/** How replay checks a dead letter against the current contracts. */
export interface ReplayValidator {
  /**
   * Decodes and validates a message value as the pipeline reading `topic` would, e.g.
   * `decodeChange(raw, currentContract, { table })`.
   */
  decode: (raw: Buffer | null, topic: string) => DecodeResult;
  /** Why a decoded change cannot be true (its times), as the pipeline would judge it now. */
  implausible?: (
    event: ChangeEvent,
    topic: string,
  ) => { path: string; message: string } | undefined;
  /** The primary-key columns of a table, in key order, to rebuild the message key. */
  keyFields: (table: string) => readonly string[] | undefined;
}

/** The message a passing dead letter is re-injected as: its original bytes, topic and partition. */
export interface ReplayMessage {
  topic: string;
  partition: number;
  /** The change topic's key, the primary key as JSON (`{"id":"..."}`); null when not recoverable. */
  key: string | null;
  value: Buffer;
}

/** What replay does with one dead letter. */
export type ReplayDecision =
  | {
      kind: 'passes';
      deadLetter: DeadLetterRecord;
      table: string;
      op: ChangeOp;
      lsn: number | null;
      message: ReplayMessage;
    }
  | {
      kind: 'still_failing';
      deadLetter: DeadLetterRecord;
      error: Omit<DecodeError, 'raw' | 'code'> & { code: DeadLetterCode };
    }
  | { kind: 'not_a_change'; deadLetter: DeadLetterRecord; reason: string };

/**
 * Decides, per dead letter and in the order given, whether it now passes the current contracts
 * (and is re-injected as its original bytes), still fails (with the issues found now), or is not
 * a change at all (a tombstone or an empty value: nothing to re-inject).
 */
export function planReplay(
  deadLetters: readonly DeadLetterRecord[],
  validator: ReplayValidator,
): ReplayDecision[] {
  return deadLetters.map((deadLetter) => decideReplay(deadLetter, validator));
}

/** The replay decision for one dead letter. */
export function decideReplay(
  deadLetter: DeadLetterRecord,
  validator: ReplayValidator,
): ReplayDecision {
  const { raw } = deadLetter;
  if (raw === null || raw.length === 0) {
    return { kind: 'not_a_change', deadLetter, reason: 'no raw bytes were kept' };
  }
  const decoded = validator.decode(raw, deadLetter.kafkaTopic);
  if (decoded.kind === 'tombstone') {
    return { kind: 'not_a_change', deadLetter, reason: 'a tombstone, not a change event' };
  }
  if (decoded.kind === 'error') {
    const { code, path, message, issues } = decoded.error;
    return { kind: 'still_failing', deadLetter, error: { code, path, message, issues } };
  }
  const { event } = decoded;
  // Re-injected, an implausible change would only come back as a dead letter.
  const implausible = validator.implausible?.(event, deadLetter.kafkaTopic);
  if (implausible) {
    const { path, message } = implausible;
    const issues = [{ code: 'IMPLAUSIBLE', path, message }];
    return {
      kind: 'still_failing',
      deadLetter,
      error: { code: 'IMPLAUSIBLE', ...implausible, issues },
    };
  }
  const table = `${event.source.schema}.${event.source.table}`;
  return {
    kind: 'passes',
    deadLetter,
    table,
    op: event.op,
    lsn: event.source.lsn,
    message: {
      topic: deadLetter.kafkaTopic,
      partition: deadLetter.kafkaPartition,
      key: messageKeyOf(raw, validator.keyFields(table)),
      value: raw,
    },
  };
}

/**
 * The change topic's message key of a raw Debezium envelope: its primary-key columns as they
 * appear in the raw row image (after, or before for a delete), so the bytes match the
 * connector's schemaless JSON key. Null for a truncate or when a key column is missing.
 */
export function messageKeyOf(raw: Buffer, keyFields: readonly string[] | undefined): string | null {
  if (!keyFields || keyFields.length === 0) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  const payload = isRecord(json) && 'schema' in json && 'payload' in json ? json.payload : json;
  if (!isRecord(payload)) return null;
  const row = isRecord(payload.after) ? payload.after : payload.before;
  if (!isRecord(row) || !keyFields.every((field) => field in row)) return null;
  return JSON.stringify(Object.fromEntries(keyFields.map((field) => [field, row[field]])));
}

/** One line saying why a dead letter still fails: the first issue, and how many more there are. */
export function describeReplayFailure(error: {
  code: string;
  path: string;
  message: string;
  issues: readonly DeadLetterIssue[];
}): string {
  const more = error.issues.length - 1;
  const others = more > 0 ? ` (+${more} more issue${more === 1 ? '' : 's'})` : '';
  return `${error.code} at ${error.path}: ${error.message}${others}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
