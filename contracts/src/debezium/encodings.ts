import { z } from 'zod';
import { findUnstorableJson, mayBeUnstorable } from './json-safety';

/**
 * Field types for event contracts, one per Debezium encoding of a PostgreSQL type. Each accepts
 * what the JSON converter writes (with the connector settings in infra/connect/) and yields the
 * domain value: decimals as exact strings, dates as `YYYY-MM-DD`, JSON as parsed values.
 */

const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;
const MS_PER_DAY = 86_400_000;
// Dates and timestamps are kept as ISO text, which has four-digit years: 0001-01-01 to 9999-12-31.
const FIRST_DAY = -719_162;
const LAST_DAY = 2_932_896;

/** Debezium's stand-in for an unchanged TOASTed value it did not receive. */
export const UNAVAILABLE_VALUE_PLACEHOLDER = '__debezium_unavailable_value';

/** numeric/decimal, as `decimal.handling.mode=string` writes it (embedded-schema bytes are decoded before). */
export function decimal() {
  return z
    .union([
      z.string().regex(DECIMAL_TEXT, 'a decimal number written as text, e.g. "12.3400"'),
      z.number(),
    ])
    .transform((value) => String(value));
}

/**
 * date: days since the epoch (io.debezium.time.Date), or already `YYYY-MM-DD`. A day number
 * outside 0001-01-01..9999-12-31 has no such text and is refused (in the transform: the range is
 * the encoding's limit, not part of the published schema).
 */
export function date() {
  return z.union([z.int(), z.iso.date()]).transform((value, context) => {
    if (typeof value === 'string') return value;
    if (value < FIRST_DAY || value > LAST_DAY) {
      context.addIssue({
        code: 'custom',
        message: `day ${value} since 1970-01-01 is not a date from 0001-01-01 to 9999-12-31`,
      });
      return z.NEVER;
    }
    return new Date(value * MS_PER_DAY).toISOString().slice(0, 10);
  });
}

/** timestamptz: io.debezium.time.ZonedTimestamp, ISO-8601 with an offset. */
export function timestamptz() {
  return z.iso.datetime({ offset: true });
}

/** timestamp without time zone: microseconds since the epoch (MicroTimestamp), or ISO text. */
export function timestamp() {
  // z.int() is a safe integer: microseconds within 1684-2255, which Date always represents.
  return z.union([z.int(), z.iso.datetime({ local: true })]).transform((value) => {
    if (typeof value === 'string') return value;
    const seconds = Math.floor(value / 1_000_000);
    const micros = value - seconds * 1_000_000;
    const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
    return `${whole}.${String(micros).padStart(6, '0')}`;
  });
}

/** json/jsonb: io.debezium.data.Json, the document as text; parsed here, and storable as jsonb. */
export function json() {
  return z.string().transform((text, context) => {
    let document: unknown;
    try {
      document = JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'not a JSON document' });
      return z.NEVER;
    }
    const problem = mayBeUnstorable(text) ? findUnstorableJson(document) : undefined;
    if (problem) {
      context.addIssue({
        code: 'custom',
        path: [...problem.path],
        message: `JSON document ${problem.message}`,
      });
      return z.NEVER;
    }
    return document;
  });
}

/** uuid: io.debezium.data.Uuid, the canonical text form. */
export function uuid() {
  return z.uuid();
}

/** A Kafka Connect field schema, as the JSON converter embeds it when schemas are enabled. */
export interface ConnectField {
  field: string;
  type: string;
  optional?: boolean;
  name?: string;
  parameters?: Record<string, string>;
  fields?: ConnectField[];
}

// What the decoder reads of an embedded schema is checked before it is used: a message may carry
// any JSON in its `schema`. Unknown keys of a field schema (doc, default, version...) are kept.
const connectRowFieldSchema = z.looseObject({
  field: z.string(),
  type: z.string(),
  optional: z.boolean().optional(),
  name: z.string().optional(),
  parameters: z.record(z.string(), z.string()).optional(),
});
const connectEnvelopeSchema = z.looseObject({
  fields: z
    .array(z.looseObject({ field: z.string(), fields: z.array(connectRowFieldSchema).optional() }))
    .optional(),
});

/**
 * The field schemas of the row images (`before`/`after`) of an embedded Connect schema, or why
 * the schema cannot be used.
 */
export function connectRowFields(
  schema: unknown,
): { fields: ConnectField[] | undefined } | { problem: { path: string; message: string } } {
  if (schema === null || schema === undefined) return { fields: undefined };
  const parsed = connectEnvelopeSchema.safeParse(schema);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      problem: {
        path: ['schema', ...(issue?.path ?? [])].map(String).join('.'),
        message: `embedded Connect schema: ${issue?.message ?? 'invalid'}`,
      },
    };
  }
  const image = parsed.data.fields?.find(
    (field) => field.field === 'after' || field.field === 'before',
  );
  return { fields: image?.fields as ConnectField[] | undefined };
}

/** The largest Decimal accepted, in bytes: 2,466 digits, more than any amount needs. */
export const MAX_DECIMAL_BYTES = 1024;
/** PostgreSQL's own limit on the digits of a numeric after its decimal point. */
export const MAX_DECIMAL_SCALE = 16_383;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Two's-complement big-endian bytes (Kafka Connect Decimal) to exact decimal text; throws a
 * RangeError naming the limit for input outside it (see {@link decodeWithConnectSchema}).
 */
export function decimalFromBytes(base64: string, scale: number): string {
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_DECIMAL_SCALE) {
    throw new RangeError(`a decimal scale must be an integer from 0 to ${MAX_DECIMAL_SCALE}`);
  }
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) {
    throw new RangeError('decimal bytes must be base64');
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > MAX_DECIMAL_BYTES) {
    throw new RangeError(
      `a decimal of ${bytes.length} bytes is over the ${MAX_DECIMAL_BYTES} bytes accepted`,
    );
  }
  // One conversion from hex: linear, where shifting in a byte at a time is quadratic.
  let unscaled = bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
  if (bytes.length > 0 && (bytes[0] ?? 0) & 0x80) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}

/**
 * Rewrites a row image using its embedded Connect schema: the encodings that cannot be read
 * without a schema (precise decimals as bytes, variable-scale decimals) become decimal text.
 * Everything else is left for the contract's field types. A value its schema cannot decode is
 * reported with its field, never thrown.
 */
export function decodeWithConnectSchema(
  row: Record<string, unknown>,
  fields: readonly ConnectField[],
): { row: Record<string, unknown> } | { problem: { field: string; message: string } } {
  const decoded: Record<string, unknown> = { ...row };
  for (const field of fields) {
    const value = row[field.field];
    if (value === null || value === undefined) continue;
    try {
      if (field.name === 'org.apache.kafka.connect.data.Decimal') {
        if (typeof value !== 'string') throw new RangeError('a Decimal must be base64 text');
        const scale = field.parameters?.scale ?? '0';
        if (!/^\d{1,5}$/.test(scale)) throw new RangeError(`a Decimal's scale must be an integer`);
        decoded[field.field] = decimalFromBytes(value, Number(scale));
      } else if (field.name === 'io.debezium.data.VariableScaleDecimal') {
        const { scale, value: bytes } = (value ?? {}) as { scale?: unknown; value?: unknown };
        if (typeof bytes !== 'string' || typeof scale !== 'number') {
          throw new RangeError(
            'a VariableScaleDecimal must be {"scale": integer, "value": base64}',
          );
        }
        decoded[field.field] = decimalFromBytes(bytes, scale);
      }
    } catch (error) {
      return { problem: { field: field.field, message: (error as Error).message } };
    }
  }
  return { row: decoded };
}

/**
 * Replaces unchanged-TOAST placeholders in an update's `after` with the value from `before`
 * (complete under REPLICA IDENTITY FULL). Returns the fields that could not be filled.
 */
export function fillUnavailableValues(
  before: Record<string, unknown> | null,
  after: Record<string, unknown>,
): { row: Record<string, unknown>; unfilled: string[] } {
  const row = { ...after };
  const unfilled: string[] = [];
  for (const [field, value] of Object.entries(after)) {
    if (!isPlaceholder(value)) continue;
    const previous = before?.[field];
    if (previous === undefined || isPlaceholder(previous)) unfilled.push(field);
    else row[field] = previous;
  }
  return { row, unfilled };
}

function isPlaceholder(value: unknown): boolean {
  return (
    value === UNAVAILABLE_VALUE_PLACEHOLDER ||
    (Array.isArray(value) && value.length === 1 && value[0] === UNAVAILABLE_VALUE_PLACEHOLDER)
  );
}
