import { describe, expect, it } from 'vitest';
import { baseValidator, encodingsOf, eventTimeColumn, parseColumns } from './columns';
import { durationSource, parseDuration } from './durations';
import { nextMigrationNumber, tableNames } from './names';

describe('parseColumns', () => {
  it('reads names, types, the primary key and nullable columns', () => {
    const columns = parseColumns('id:uuid:pk, amount_minor:bigint,note:text:null');
    expect(columns.map(({ name, primaryKey, nullable }) => [name, primaryKey, nullable])).toEqual([
      ['id', true, false],
      ['amount_minor', false, false],
      ['note', false, true],
    ]);
    expect(columns.map((column) => column.knex)).toEqual([
      "uuid('id').notNullable()",
      "bigInteger('amount_minor').notNullable()",
      "text('note')",
    ]);
    expect(columns.map((column) => column.zod)).toEqual([
      'uuid()',
      'z.int()',
      'z.string().nullable()',
    ]);
    expect(baseValidator(columns[2]!)).toBe('z.string()');
    expect(encodingsOf(parseColumns('id:uuid:pk,at:timestamptz,on:date,x:text'))).toEqual([
      'date',
      'timestamptz',
      'uuid',
    ]);
  });

  it('names every problem at once', () => {
    expect(() => parseColumns('Id:uuid,note:txt,x:text:unique,x:text,k:uuid:pk:null')).toThrow(
      [
        '--columns:',
        '  "Id:uuid": a column name is lower-case letters, digits and _',
        '  note: unknown type "txt", expected one of uuid, text, integer, bigint, boolean, numeric, date, timestamptz, jsonb',
        '  x: unknown modifier "unique", expected pk or null',
        '  k: a primary key column cannot be null',
      ].join('\n'),
    );
  });

  it('wants a primary key for a table, and none for added columns', () => {
    expect(() => parseColumns('note:text')).toThrow(
      /no primary key: mark its column\(s\) with :pk/,
    );
    expect(() => parseColumns('id:uuid:pk', { flag: '--add', primaryKey: 'refused' })).toThrow(
      '--add:\n  id: the primary key cannot change',
    );
    expect(() => parseColumns(' , ')).toThrow(/expected at least one column/);
  });
});

describe('eventTimeColumn', () => {
  it('takes the one timestamptz column, created_at among several, or the one named', () => {
    expect(eventTimeColumn(parseColumns('id:uuid:pk,at:timestamptz')).name).toBe('at');
    const two = parseColumns('id:uuid:pk,updated_at:timestamptz,created_at:timestamptz');
    expect(eventTimeColumn(two).name).toBe('created_at');
    expect(eventTimeColumn(two, 'updated_at').name).toBe('updated_at');
  });

  it('refuses a table it cannot cut windows by', () => {
    expect(() => eventTimeColumn(parseColumns('id:uuid:pk,at:timestamptz:null'))).toThrow(
      /needs a NOT NULL timestamptz column for its event time/,
    );
    const two = parseColumns('id:uuid:pk,a:timestamptz,b:timestamptz');
    expect(() => eventTimeColumn(two)).toThrow(/several timestamptz columns \(a, b\)/);
    expect(() => eventTimeColumn(two, 'id')).toThrow(
      /--event-time: id is not a NOT NULL timestamptz/,
    );
  });
});

describe('names and durations', () => {
  it('derives file and identifier names from the table', () => {
    expect(tableNames('shop.gift_cards')).toEqual({
      table: 'shop.gift_cards',
      schema: 'shop',
      name: 'gift_cards',
      fileStem: 'shop-gift-cards',
      identifier: 'giftCards',
    });
    expect(() => tableNames('refunds')).toThrow(/expected a table as schema.table/);
    expect(nextMigrationNumber(['0001-a.ts', '0004-b.ts', '0002-c.ts'])).toBe('0005');
  });

  it('reads durations and writes them with the catalogue’s constants', () => {
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('1h', '--x')).toBe(3_600_000);
    expect(() => parseDuration('1 hour', '--window')).toThrow(/--window: expected a duration/);
    expect([3_600_000, 300_000, 5_000, 1_500].map(durationSource)).toEqual([
      'HOUR',
      '5 * MINUTE',
      '5 * SECOND',
      '1500',
    ]);
  });
});
