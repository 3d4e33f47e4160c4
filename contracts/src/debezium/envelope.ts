import { z } from 'zod';
import type { ContractOf, EventContract } from '../events/contract';
import type { ConnectField } from './encodings';
import { connectRowFields, decodeWithConnectSchema, fillUnavailableValues } from './encodings';
import { findUnstorableJson, mayBeUnstorable } from './json-safety';

export const CHANGE_OPS = ['c', 'u', 'd', 'r', 't'] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

export type Row = Record<string, unknown>;

/** Where a change came from in the source database's log. */
export interface ChangeSource {
  schema: string;
  table: string;
  /** Log sequence number of the change; null for a truncate's absent position. */
  lsn: number | null;
  txId: number | null;
  /** Commit time in the source database, epoch milliseconds. */
  committedAtMs: number;
  snapshot: boolean;
}

/** A decoded Debezium change event, its row images checked against an event contract. */
export interface ChangeEvent {
  op: ChangeOp;
  before: Row | null;
  after: Row | null;
  source: ChangeSource;
  /** When the connector processed the change, epoch milliseconds. */
  capturedAtMs: number;
  contractVersion: number | null;
}

export const DECODE_ERROR_CODES = [
  'NOT_JSON',
  'NOT_AN_ENVELOPE',
  'NO_CONTRACT',
  'UNAVAILABLE_VALUE',
  'CONTRACT_VIOLATION',
  /** Readable JSON the decoder refuses: too large, too deep, a bad embedded schema or decimal. */
  'DECODE_FAILED',
  /** `source.table` is not the table of the topic the message was read from. */
  'TABLE_MISMATCH',
  /** A truncate of a table whose contract does not allow truncates. */
  'TRUNCATE_NOT_ALLOWED',
] as const;
export type DecodeErrorCode = (typeof DECODE_ERROR_CODES)[number];

/**
 * Every code a dead letter can have: the decoder's, and the stream's own (a change whose times
 * or log position cannot be true, and a change the warehouse refused to store).
 */
export const DEAD_LETTER_CODES = [...DECODE_ERROR_CODES, 'IMPLAUSIBLE', 'SINK_REJECTED'] as const;
export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

/** The largest message decoded by default; larger ones are dead letters, kept whole. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

/** What decoding checks beyond the contract. */
export interface DecodeOptions {
  /** The table the message's topic carries: a message naming another one is refused. */
  table?: string;
  /** Messages larger than this are not parsed (default 1 MiB). */
  maxMessageBytes?: number;
}

/** One thing wrong with a message: a contract's validation issue, or the decode failure itself. */
export interface DecodeIssue {
  /** The validation issue's code (e.g. `invalid_format`), or the decode error's code. */
  code: string;
  /** JSON path of the offending value, e.g. `after.currency`. */
  path: string;
  message: string;
}

/** Why a message could not become a change event; the raw bytes are kept for the DLQ. */
export interface DecodeError {
  code: DecodeErrorCode;
  /** JSON path of the offending value, e.g. `after.currency` (the first issue's). */
  path: string;
  message: string;
  /** Every issue found, the first one being the one `path` and `message` describe. */
  issues: DecodeIssue[];
  raw: Buffer;
}

export type DecodeResult =
  | { kind: 'change'; event: ChangeEvent }
  | { kind: 'tombstone' }
  | { kind: 'error'; error: DecodeError };

const sourceSchema = z.object({
  schema: z.string(),
  table: z.string(),
  lsn: z.int().nonnegative().nullish(),
  txId: z.int().nonnegative().nullish(),
  ts_ms: z.number().int(),
  snapshot: z.union([z.string(), z.boolean()]).nullish(),
});

export const envelopeSchema = z.object({
  op: z.enum(CHANGE_OPS),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  source: sourceSchema,
  ts_ms: z.number().int(),
});

type Envelope = z.output<typeof envelopeSchema>;

/**
 * The envelope's fields, or the first thing wrong with them. Nearly every message is a plain
 * well-formed envelope, read here as it is (its row images are checked against their contract
 * next, which copies them); anything else goes through the schema, which names what is wrong.
 */
function readEnvelope(payload: unknown): Envelope | { issue: z.core.$ZodIssue | undefined } {
  if (isPlainEnvelope(payload)) return payload;
  const parsed = envelopeSchema.safeParse(payload);
  return parsed.success ? parsed.data : { issue: parsed.error.issues[0] };
}

/** Whether a value is an envelope the schema accepts as it is (a subset of what it accepts). */
export function isPlainEnvelope(value: unknown): value is Envelope {
  if (!isRecord(value)) return false;
  const { op, before, after, source, ts_ms } = value;
  return (
    typeof op === 'string' &&
    (CHANGE_OPS as readonly string[]).includes(op) &&
    (before === null || isRecord(before)) &&
    (after === null || isRecord(after)) &&
    Number.isSafeInteger(ts_ms) &&
    isRecord(source) &&
    typeof source.schema === 'string' &&
    typeof source.table === 'string' &&
    isAbsentOrCount(source.lsn) &&
    isAbsentOrCount(source.txId) &&
    Number.isSafeInteger(source.ts_ms) &&
    (source.snapshot === undefined ||
      source.snapshot === null ||
      typeof source.snapshot === 'string' ||
      typeof source.snapshot === 'boolean')
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAbsentOrCount(value: unknown): boolean {
  return (
    value === undefined || value === null || (Number.isSafeInteger(value) && (value as number) >= 0)
  );
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '$';
}

/**
 * Decodes one Debezium JSON-converter message value (with or without an embedded schema) and
 * validates its row images against the table's contract. Never throws: whatever the bytes, the
 * result is a change, a tombstone or an error naming what is wrong.
 */
export function decodeChange(
  value: Buffer | null,
  contractFor: ContractOf,
  options: DecodeOptions = {},
): DecodeResult {
  if (value === null || value.length === 0) return { kind: 'tombstone' };
  try {
    return decodeMessage(value, contractFor, options);
  } catch (error) {
    // Every input the decoder knows to be bad is reported above; this is a decoder defect, and
    // still only this message's failure.
    return failure(value, 'DECODE_FAILED', '$', `the decoder failed: ${String(error)}`);
  }
}

function failure(
  raw: Buffer,
  code: DecodeErrorCode,
  path: string,
  message: string,
  issues: DecodeIssue[] = [{ code, path, message }],
): DecodeResult {
  return { kind: 'error', error: { code, path, message, issues, raw } };
}

function decodeMessage(
  value: Buffer,
  contractFor: ContractOf,
  options: DecodeOptions,
): DecodeResult {
  const fail = (code: DecodeErrorCode, path: string, message: string, issues?: DecodeIssue[]) =>
    failure(value, code, path, message, issues);
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (value.length > maxBytes) {
    return fail(
      'DECODE_FAILED',
      '$',
      `a message of ${value.length} bytes is larger than the ${maxBytes} bytes decoded`,
    );
  }

  const text = value.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail('NOT_JSON', '$', `not JSON: ${(error as Error).message}`);
  }
  const unstorable = mayBeUnstorable(text) ? findUnstorableJson(json) : undefined;
  if (unstorable) {
    const depth = unstorable.message.startsWith('nested');
    return fail(
      depth ? 'DECODE_FAILED' : 'CONTRACT_VIOLATION',
      formatPath(unwrappedPath(json, unstorable.path)),
      unstorable.message,
    );
  }
  const unwrapped = unwrap(json);
  if ('problem' in unwrapped) {
    return fail('DECODE_FAILED', unwrapped.problem.path, unwrapped.problem.message);
  }
  const { payload, rowFields } = unwrapped;
  if (payload === null) return { kind: 'tombstone' };

  const envelope = readEnvelope(payload);
  if ('issue' in envelope) {
    const { issue } = envelope;
    return fail(
      'NOT_AN_ENVELOPE',
      formatPath(issue?.path ?? []),
      issue?.message ?? 'not an envelope',
    );
  }
  const { op, before, after, source, ts_ms } = envelope;
  const table = `${source.schema}.${source.table}`;
  if (options.table !== undefined && table !== options.table) {
    return fail(
      'TABLE_MISMATCH',
      'source.table',
      `a change of ${table} on the topic of ${options.table}`,
    );
  }
  const missingImage = missingImageOf(op, before, after);
  if (missingImage)
    return fail('NOT_AN_ENVELOPE', missingImage, `op "${op}" needs ${missingImage}`);
  const changeSource: ChangeSource = {
    schema: source.schema,
    table: source.table,
    lsn: source.lsn ?? null,
    txId: source.txId ?? null,
    committedAtMs: source.ts_ms,
    snapshot:
      source.snapshot === true ||
      (typeof source.snapshot === 'string' && source.snapshot !== 'false'),
  };

  const contract = contractFor(table);
  if (!contract) return fail('NO_CONTRACT', 'source.table', `no event contract for table ${table}`);
  if (op === 't') {
    if (!contract.allowsTruncate) {
      return fail(
        'TRUNCATE_NOT_ALLOWED',
        'op',
        `${table} v${contract.version} does not allow truncates (see allowsTruncate in its contract)`,
      );
    }
    return {
      kind: 'change',
      event: {
        op,
        before: null,
        after: null,
        source: changeSource,
        capturedAtMs: ts_ms,
        contractVersion: null,
      },
    };
  }

  const images: Record<'before' | 'after', Row | null> = { before, after };
  if (rowFields) {
    for (const image of ['before', 'after'] as const) {
      const row = images[image];
      if (!row) continue;
      const decoded = decodeWithConnectSchema(row, rowFields);
      if ('problem' in decoded) {
        const { field, message } = decoded.problem;
        return fail('DECODE_FAILED', `${image}.${field}`, message);
      }
      images[image] = decoded.row;
    }
  }
  if (images.after) {
    const filled = fillUnavailableValues(images.before, images.after);
    if (filled.unfilled.length > 0) {
      return fail(
        'UNAVAILABLE_VALUE',
        `after.${filled.unfilled[0]}`,
        `unchanged TOAST value without a before image: ${filled.unfilled.join(', ')} (is REPLICA IDENTITY FULL set?)`,
      );
    }
    images.after = filled.row;
  }
  for (const image of ['before', 'after'] as const) {
    const row = images[image];
    if (row === null) continue;
    const checked = contract.row.safeParse(row);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const path = formatPath([image, ...(issue?.path ?? []), ...unrecognizedKey(issue)]);
      const message = `${table} v${contract.version}: ${issue?.message ?? 'invalid row'}`;
      const issues = checked.error.issues.flatMap((each) => contractIssues(image, each));
      return fail(
        'CONTRACT_VIOLATION',
        path,
        message,
        issues.length > 0 ? issues : [{ code: 'CONTRACT_VIOLATION', path, message }],
      );
    }
    images[image] = checked.data as Row;
  }
  return {
    kind: 'change',
    event: {
      op,
      before: images.before,
      after: images.after,
      source: changeSource,
      capturedAtMs: ts_ms,
      contractVersion: contract.version,
    },
  };
}

/** The row image an operation cannot do without: a delete's before, the others' after. */
function missingImageOf(op: ChangeOp, before: Row | null, after: Row | null): string | undefined {
  if (op === 't') return undefined;
  if (op === 'd') return before === null ? 'before' : undefined;
  return after === null ? 'after' : undefined;
}

/** A field the closed contract does not know is named in the path, not only in the message. */
function unrecognizedKey(issue: z.core.$ZodIssue | undefined): string[] {
  return issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
}

/** A zod issue of a row image as decode issues: one per field it names, unknown fields included. */
function contractIssues(image: 'before' | 'after', issue: z.core.$ZodIssue): DecodeIssue[] {
  const keys = issue.code === 'unrecognized_keys' && issue.keys.length > 0 ? issue.keys : [null];
  return keys.map((key) => ({
    code: issue.code,
    path: formatPath([image, ...issue.path, ...(key === null ? [] : [key])]),
    message: issue.message,
  }));
}

/**
 * The envelope of a message written with or without an embedded schema, and the Connect field
 * schemas of its row images when the schema is there (checked before use).
 */
function unwrap(
  json: unknown,
):
  | { payload: unknown; rowFields: ConnectField[] | undefined }
  | { problem: { path: string; message: string } } {
  if (!isWrapped(json)) return { payload: json, rowFields: undefined };
  const rowFields = connectRowFields(json.schema);
  if ('problem' in rowFields) return rowFields;
  return { payload: json.payload, rowFields: rowFields.fields };
}

function isWrapped(json: unknown): json is { payload: unknown; schema: unknown } {
  return typeof json === 'object' && json !== null && 'payload' in json && 'schema' in json;
}

/** A path into the message as the envelope's fields name it (`after.x`, not `payload.after.x`). */
function unwrappedPath(
  json: unknown,
  path: readonly (string | number)[],
): readonly (string | number)[] {
  return isWrapped(json) && path[0] === 'payload' ? path.slice(1) : path;
}

/** The primary key of a change's row image (after, or before for a delete), in key order. */
export function primaryKeyOf(event: ChangeEvent, contract: EventContract): Row | null {
  const row = event.after ?? event.before;
  if (!row) return null;
  return Object.fromEntries(contract.primaryKey.map((field) => [field, row[field]]));
}
