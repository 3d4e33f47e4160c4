import type { LandedChange } from './landing';

/**
 * Rows of `raw.change_events` as the text format of PostgreSQL's `COPY … FROM STDIN`: one line
 * per change, encoded once from the decoded change (no intermediate JSON document for the
 * server to parse again). Pure.
 */

/** The columns `changelogCopyText` writes, in its order. */
export const CHANGELOG_COPY_COLUMNS = [
  'source_table',
  'op',
  'primary_key',
  'lsn',
  'tx_id',
  'committed_at',
  'captured_at',
  'before',
  'after',
  'contract_version',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'kafka_timestamp',
] as const;

/** The text of a COPY of these rows: lines of tab-separated fields, `\N` for null. */
export function changelogCopyText(rows: readonly LandedChange[]): string {
  let text = '';
  for (const row of rows) text += changelogCopyLine(row);
  return text;
}

/**
 * The same text as UTF-8 chunks of about `chunkChars` characters each, whole lines, for the COPY
 * stream: encoding a batch's text in pieces costs less than flattening and encoding one string
 * of megabytes (about a microsecond a change less, `bench/design/copy-encoding.ts`).
 */
export function changelogCopyChunks(
  rows: readonly LandedChange[],
  chunkChars = 64 * 1024,
): Buffer[] {
  const chunks: Buffer[] = [];
  let text = '';
  for (const row of rows) {
    text += changelogCopyLine(row);
    if (text.length >= chunkChars) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  if (text.length > 0) chunks.push(Buffer.from(text));
  return chunks;
}

function changelogCopyLine(row: LandedChange): string {
  return (
    `${copyField(row.source_table)}\t${copyField(row.op)}\t` +
    `${copyField(JSON.stringify(row.primary_key))}\t${row.lsn}\t${nullable(row.tx_id)}\t` +
    `${copyTimestamp(row.committed_at)}\t${copyTimestamp(row.captured_at)}\t` +
    `${jsonField(row.before)}\t${jsonField(row.after)}\t${nullable(row.contract_version)}\t` +
    `${copyField(row.kafka_topic)}\t${row.kafka_partition}\t${copyField(row.kafka_offset)}\t` +
    `${copyTimestamp(row.kafka_timestamp)}\n`
  );
}

const NULL_FIELD = '\\N';

/**
 * A timestamp as PostgreSQL reads it, `2026-11-22 23:59:42.226+00`: the same instant as
 * `toISOString`, formatted by arithmetic in a third of its time (three per change,
 * `bench/design/copy-encoding.ts`). Years
 * outside 1–9999 keep `toISOString`'s extended form.
 */
export function copyTimestamp(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= FIRST_YEAR_MS && ms < AFTER_LAST_YEAR_MS)) return date.toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1_460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1_000);
  const millis = rest - seconds * 1_000;
  return (
    `${String(year).padStart(4, '0')}-${two(month)}-${two(day)} ` +
    `${two(hours)}:${two(minutes)}:${two(seconds)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}+00`
  );
}

const DAY_MS = 86_400_000;
const FIRST_YEAR_MS = Date.parse('0001-01-01T00:00:00Z');
const AFTER_LAST_YEAR_MS = Date.parse('+010000-01-01T00:00:00Z');

function two(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

function nullable(value: number | null): string {
  return value === null ? NULL_FIELD : String(value);
}

function jsonField(document: unknown): string {
  return document === null ? NULL_FIELD : copyField(JSON.stringify(document));
}

const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * A text field as COPY reads it back: backslash, tab, newline and carriage return escaped. (JSON
 * text holds no raw control character, but its own escapes are backslashes.) NUL never reaches
 * here: the decoder refuses it, as PostgreSQL's text and jsonb types do.
 */
export function copyField(text: string): string {
  return SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] as string) : text;
}
