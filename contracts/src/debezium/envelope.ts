import { z } from 'zod';
import type { EventContract } from '../events/contract';
import { decodeWithConnectSchema, fillUnavailableValues, type ConnectField } from './encodings';

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
] as const;
export type DecodeErrorCode = (typeof DECODE_ERROR_CODES)[number];

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
  lsn: z.number().int().nullish(),
  txId: z.number().int().nullish(),
  ts_ms: z.number().int(),
  snapshot: z.union([z.string(), z.boolean()]).nullish(),
});

const envelopeSchema = z.object({
  op: z.enum(CHANGE_OPS),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  source: sourceSchema,
  ts_ms: z.number().int(),
});

function formatPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '$';
}

/**
 * Decodes one Debezium JSON-converter message value (with or without an embedded schema) and
 * validates its row images against the table's contract. Never throws on bad input.
 */
export function decodeChange(
  value: Buffer | null,
  contractFor: (table: string) => EventContract | undefined,
): DecodeResult {
  if (value === null || value.length === 0) return { kind: 'tombstone' };
  const fail = (
    code: DecodeErrorCode,
    path: string,
    message: string,
    issues: DecodeIssue[] = [{ code, path, message }],
  ): DecodeResult => ({
    kind: 'error',
    error: { code, path, message, issues, raw: value },
  });

  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return fail('NOT_JSON', '$', `not JSON: ${(error as Error).message}`);
  }
  const { payload, rowFields } = unwrap(json);
  if (payload === null) return { kind: 'tombstone' };

  const envelope = envelopeSchema.safeParse(payload);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return fail(
      'NOT_AN_ENVELOPE',
      formatPath(issue?.path ?? []),
      issue?.message ?? 'not an envelope',
    );
  }
  const { op, before, after, source, ts_ms } = envelope.data;
  const table = `${source.schema}.${source.table}`;
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
  if (op === 't') {
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

  const contract = contractFor(table);
  if (!contract) return fail('NO_CONTRACT', 'source.table', `no event contract for table ${table}`);
  const images: Record<'before' | 'after', Row | null> = { before, after };
  if (rowFields) {
    for (const image of ['before', 'after'] as const) {
      const row = images[image];
      if (row) images[image] = decodeWithConnectSchema(row, rowFields);
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
 * schemas of its row images when the schema is there.
 */
function unwrap(json: unknown): { payload: unknown; rowFields: ConnectField[] | undefined } {
  if (typeof json !== 'object' || json === null || !('payload' in json) || !('schema' in json)) {
    return { payload: json, rowFields: undefined };
  }
  const { payload, schema } = json as {
    payload: unknown;
    schema: { fields?: ConnectField[] } | null;
  };
  const after = schema?.fields?.find(
    (field) => field.field === 'after' || field.field === 'before',
  );
  return { payload, rowFields: after?.fields };
}

/** The primary key of a change's row image (after, or before for a delete), in key order. */
export function primaryKeyOf(event: ChangeEvent, contract: EventContract): Row | null {
  const row = event.after ?? event.before;
  if (!row) return null;
  return Object.fromEntries(contract.primaryKey.map((field) => [field, row[field]]));
}
