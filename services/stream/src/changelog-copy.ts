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

function changelogCopyLine(row: LandedChange): string {
  return (
    `${copyField(row.source_table)}\t${copyField(row.op)}\t` +
    `${copyField(JSON.stringify(row.primary_key))}\t${row.lsn}\t${nullable(row.tx_id)}\t` +
    `${row.committed_at.toISOString()}\t${row.captured_at.toISOString()}\t` +
    `${jsonField(row.before)}\t${jsonField(row.after)}\t${nullable(row.contract_version)}\t` +
    `${copyField(row.kafka_topic)}\t${row.kafka_partition}\t${copyField(row.kafka_offset)}\t` +
    `${row.kafka_timestamp.toISOString()}\n`
  );
}

const NULL_FIELD = '\\N';

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
