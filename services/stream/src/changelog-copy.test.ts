import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHANGELOG_COPY_COLUMNS,
  changelogCopyChunks,
  changelogCopyText,
  copyField,
  copyTimestamp,
} from './changelog-copy';
import type { LandedChange } from './landing';

/** Reads COPY's text format back as PostgreSQL does: fields of each line, `\N` as null. */
function readCopyText(text: string): (string | null)[][] {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((line) =>
    line
      .split('\t')
      .map((field) =>
        field === '\\N'
          ? null
          : field.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c),
      ),
  );
}

function change(overrides: Partial<LandedChange> = {}): LandedChange {
  return {
    source_table: 'shop.orders',
    op: 'u',
    primary_key: { id: '59ab8c09-8788-4c62-baa7-35b1dbb71644' },
    lsn: 24_023_128,
    tx_id: 771,
    committed_at: new Date('2026-11-22T23:59:42.226Z'),
    captured_at: new Date('2026-11-22T23:59:42.300Z'),
    before: { status: 'pending', note: 'tab\there, newline\nthere, back\\slash' },
    after: { status: 'paid', note: 'quote " and \u00e9 and \ud83d\ude00' },
    contract_version: 2,
    kafka_topic: 'tidemark.shop.orders',
    kafka_partition: 3,
    kafka_offset: '9007199254740993',
    kafka_timestamp: new Date('2026-11-22T23:59:42.310Z'),
    ...overrides,
  };
}

describe('changelogCopyText', () => {
  it('writes one line per change with every column, in the declared order', () => {
    const row = change();
    const [fields] = readCopyText(changelogCopyText([row]));
    expect(fields).toHaveLength(CHANGELOG_COPY_COLUMNS.length);
    const byColumn = Object.fromEntries(
      CHANGELOG_COPY_COLUMNS.map((column, index) => [column, fields?.[index]]),
    );
    expect(byColumn).toEqual({
      source_table: 'shop.orders',
      op: 'u',
      primary_key: JSON.stringify(row.primary_key),
      lsn: '24023128',
      tx_id: '771',
      committed_at: '2026-11-22 23:59:42.226+00',
      captured_at: '2026-11-22 23:59:42.300+00',
      before: JSON.stringify(row.before),
      after: JSON.stringify(row.after),
      contract_version: '2',
      kafka_topic: 'tidemark.shop.orders',
      kafka_partition: '3',
      kafka_offset: '9007199254740993',
      kafka_timestamp: '2026-11-22 23:59:42.310+00',
    });
  });

  it('writes timestamps as the instant toISOString names, in every year PostgreSQL may be given', () => {
    fc.assert(
      fc.property(fc.integer({ min: -70_000_000_000_000, max: 300_000_000_000_000 }), (ms) => {
        const date = new Date(ms);
        const text = copyTimestamp(date);
        expect(Date.parse(text.replace(' ', 'T').replace(/\+00$/, 'Z'))).toBe(ms);
      }),
    );
    expect(copyTimestamp(new Date('0001-01-01T00:00:00.005Z'))).toBe('0001-01-01 00:00:00.005+00');
    expect(copyTimestamp(new Date('2024-02-29T23:59:59.999Z'))).toBe('2024-02-29 23:59:59.999+00');
    expect(copyTimestamp(new Date('+012000-01-01T00:00:00Z'))).toBe('+012000-01-01T00:00:00.000Z');
  });

  it('splits the text into chunks of whole lines, the same text in all', () => {
    const rows = Array.from({ length: 50 }, (_, index) => change({ lsn: index }));
    const chunks = changelogCopyChunks(rows, 1_000);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((chunk) => chunk.toString().endsWith('\n'))).toBe(true);
    expect(Buffer.concat(chunks).toString()).toBe(changelogCopyText(rows));
  });

  it('writes absent images, transaction ids and contract versions as null', () => {
    const [fields] = readCopyText(
      changelogCopyText([change({ op: 't', before: null, after: null, tx_id: null })]),
    );
    expect(fields?.[CHANGELOG_COPY_COLUMNS.indexOf('before')]).toBeNull();
    expect(fields?.[CHANGELOG_COPY_COLUMNS.indexOf('after')]).toBeNull();
    expect(fields?.[CHANGELOG_COPY_COLUMNS.indexOf('tx_id')]).toBeNull();
    const [versionless] = readCopyText(changelogCopyText([change({ contract_version: null })]));
    expect(versionless?.[CHANGELOG_COPY_COLUMNS.indexOf('contract_version')]).toBeNull();
  });

  it('gives back any row image exactly, whatever its text holds', () => {
    // Every character PostgreSQL can store (no NUL, no lone surrogate: the decoder refuses them).
    const storable = fc.string({ unit: 'grapheme' }).map((text) => text.replaceAll('\u0000', ''));
    const image = fc.dictionary(storable, fc.oneof(storable, fc.integer(), fc.constant(null)));
    fc.assert(
      fc.property(fc.array(fc.tuple(image, storable), { maxLength: 5 }), (rows) => {
        const changes = rows.map(([after, table]) => change({ after, source_table: table }));
        const read = readCopyText(changelogCopyText(changes));
        expect(read).toHaveLength(changes.length);
        read.forEach((fields, index) => {
          expect(fields).toHaveLength(CHANGELOG_COPY_COLUMNS.length);
          const after = fields[CHANGELOG_COPY_COLUMNS.indexOf('after')] as string;
          expect(JSON.parse(after)).toEqual(changes[index]?.after);
          expect(fields[0]).toBe(changes[index]?.source_table);
        });
      }),
    );
  });

  it('escapes exactly the characters COPY gives a meaning to', () => {
    expect(copyField('plain "text" é')).toBe('plain "text" é');
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField('\\N')).toBe('\\\\N');
  });
});
