import { z } from 'zod';

/**
 * Field types for event contracts, one per Debezium encoding of a PostgreSQL type. Each accepts
 * what the JSON converter writes (with the connector settings in infra/connect/) and yields the
 * domain value: decimals as exact strings, dates as `YYYY-MM-DD`, JSON as parsed values.
 */

const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;
const MS_PER_DAY = 86_400_000;

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

/** date: days since the epoch (io.debezium.time.Date), or already `YYYY-MM-DD`. */
export function date() {
  return z
    .union([z.int(), z.iso.date()])
    .transform((value) =>
      typeof value === 'number' ? new Date(value * MS_PER_DAY).toISOString().slice(0, 10) : value,
    );
}

/** timestamptz: io.debezium.time.ZonedTimestamp, ISO-8601 with an offset. */
export function timestamptz() {
  return z.iso.datetime({ offset: true });
}

/** timestamp without time zone: microseconds since the epoch (MicroTimestamp), or ISO text. */
export function timestamp() {
  return z.union([z.int(), z.iso.datetime({ local: true })]).transform((value) => {
    if (typeof value === 'string') return value;
    const seconds = Math.floor(value / 1_000_000);
    const micros = value - seconds * 1_000_000;
    const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
    return `${whole}.${String(micros).padStart(6, '0')}`;
  });
}

/** json/jsonb: io.debezium.data.Json, the document as text; parsed here. */
export function json() {
  return z.string().transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'not a JSON document' });
      return z.NEVER;
    }
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

/** Two's-complement big-endian bytes (Kafka Connect Decimal) to exact decimal text. */
export function decimalFromBytes(base64: string, scale: number): string {
  const bytes = Buffer.from(base64, 'base64');
  let unscaled = 0n;
  for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0] ?? 0) & 0x80) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}

/**
 * Rewrites a row image using its embedded Connect schema: the encodings that cannot be read
 * without a schema (precise decimals as bytes, variable-scale decimals) become decimal text.
 * Everything else is left for the contract's field types.
 */
export function decodeWithConnectSchema(
  row: Record<string, unknown>,
  fields: readonly ConnectField[],
): Record<string, unknown> {
  const decoded: Record<string, unknown> = { ...row };
  for (const field of fields) {
    const value = row[field.field];
    if (value === null || value === undefined) continue;
    if (field.name === 'org.apache.kafka.connect.data.Decimal' && typeof value === 'string') {
      decoded[field.field] = decimalFromBytes(value, Number(field.parameters?.scale ?? 0));
    } else if (
      field.name === 'io.debezium.data.VariableScaleDecimal' &&
      typeof value === 'object'
    ) {
      const { scale, value: bytes } = value as { scale: number; value: string };
      decoded[field.field] = decimalFromBytes(bytes, scale);
    }
  }
  return decoded;
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
