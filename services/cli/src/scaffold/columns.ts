import { TidemarkError } from '@tidemark/runtime';

// A new table's columns as `tidemark new table --columns` spells them, `name:type[:pk|:null]`
// comma-separated, and what each type becomes in the migration (knex) and the event contract
// (zod, as Debezium's JSON converter writes the value).

/** How one column type is created, validated and sampled. */
interface ColumnType {
  /** The knex schema builder call, `table.<call>`, without the column name. */
  knex: (name: string) => string;
  /** The contract's zod expression (`z` and the encodings imported by the template). */
  zod: string;
  /** What Debezium writes for such a column: a sample value for the generated test. */
  sample: unknown;
  /** Numeric: a sum or an average may be taken of it. */
  numeric?: boolean;
}

const COLUMN_TYPES: Record<string, ColumnType> = {
  uuid: {
    knex: (name) => `uuid('${name}')`,
    zod: 'uuid()',
    sample: '6f1c2f47-3a1b-4c55-9d1e-0b5d8e0a7c11',
  },
  text: { knex: (name) => `text('${name}')`, zod: 'z.string()', sample: 'some text' },
  integer: {
    knex: (name) => `integer('${name}')`,
    zod: 'z.int()',
    sample: 42,
    numeric: true,
  },
  bigint: {
    knex: (name) => `bigInteger('${name}')`,
    zod: 'z.int()',
    sample: 4200,
    numeric: true,
  },
  boolean: { knex: (name) => `boolean('${name}')`, zod: 'z.boolean()', sample: true },
  numeric: {
    knex: (name) => `decimal('${name}', 18, 4)`,
    zod: 'decimal()',
    sample: '12.3400',
    numeric: true,
  },
  date: { knex: (name) => `date('${name}')`, zod: 'date()', sample: 20_454 },
  timestamptz: {
    knex: (name) => `timestamp('${name}', { useTz: true })`,
    zod: 'timestamptz()',
    sample: '2026-01-01T10:00:00.000000Z',
  },
  jsonb: { knex: (name) => `jsonb('${name}')`, zod: 'json()', sample: '{"note":"x"}' },
};

export const COLUMN_TYPE_NAMES = Object.keys(COLUMN_TYPES);

/** One column of a new table. */
export interface Column {
  name: string;
  type: string;
  primaryKey: boolean;
  nullable: boolean;
  knex: string;
  zod: string;
  sample: unknown;
  numeric: boolean;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Reads `id:uuid:pk,order_id:uuid,note:text:null,...`; throws a BAD_INPUT error listing every
 * problem. Columns are NOT NULL unless marked `null`; at least one is the primary key.
 */
export function parseColumns(
  spec: string,
  options: { flag?: string; primaryKey?: 'required' | 'refused' } = {},
): Column[] {
  const { flag = '--columns', primaryKey: keyRule = 'required' } = options;
  const problems: string[] = [];
  const columns: Column[] = [];
  const parts = spec
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const part of parts) {
    const [name = '', type = '', ...modifiers] = part.split(':');
    const columnType = COLUMN_TYPES[type];
    if (!IDENTIFIER.test(name)) {
      problems.push(`${JSON.stringify(part)}: a column name is lower-case letters, digits and _`);
      continue;
    }
    if (columnType === undefined) {
      problems.push(
        `${name}: unknown type ${JSON.stringify(type)}, expected one of ${COLUMN_TYPE_NAMES.join(', ')}`,
      );
      continue;
    }
    const unknown = modifiers.filter((modifier) => modifier !== 'pk' && modifier !== 'null');
    if (unknown.length > 0) {
      problems.push(`${name}: unknown modifier ${JSON.stringify(unknown[0])}, expected pk or null`);
      continue;
    }
    const primaryKey = modifiers.includes('pk');
    const nullable = modifiers.includes('null');
    if (primaryKey && nullable) problems.push(`${name}: a primary key column cannot be null`);
    if (columns.some((column) => column.name === name)) problems.push(`${name}: given twice`);
    const notNull = nullable ? '' : '.notNullable()';
    columns.push({
      name,
      type,
      primaryKey,
      nullable,
      knex: `${columnType.knex(name)}${notNull}`,
      zod: nullable ? `${columnType.zod}.nullable()` : columnType.zod,
      sample: columnType.sample,
      numeric: columnType.numeric ?? false,
    });
  }
  const keyed = columns.filter((column) => column.primaryKey);
  if (parts.length === 0) problems.push('expected at least one column, e.g. id:uuid:pk');
  else if (keyRule === 'required' && keyed.length === 0 && problems.length === 0) {
    problems.push('no primary key: mark its column(s) with :pk, e.g. id:uuid:pk');
  } else if (keyRule === 'refused' && keyed.length > 0) {
    problems.push(`${keyed[0]?.name}: the primary key cannot change`);
  }
  if (problems.length > 0) {
    throw new TidemarkError('BAD_INPUT', `${flag}:\n  ${problems.join('\n  ')}`);
  }
  return columns;
}

/** The column types' validators from contracts' encodings (`uuid`, `timestamptz`, ...). */
export function encodingsOf(columns: readonly Column[]): string[] {
  return [...new Set(columns.map((column) => /^(\w+)\(\)/.exec(column.zod)?.[1]))]
    .filter((name): name is string => name !== undefined)
    .sort();
}

/** A column's validator without its nullability: `uuid()` for `uuid().nullable()`. */
export function baseValidator(column: Column): string {
  return column.zod.replace(/\.nullable\(\)$/, '');
}

/**
 * The event-time column: the one named, or the only `timestamptz` column, or `created_at` among
 * several; windows are cut by it, so a table without one cannot feed a metric.
 */
export function eventTimeColumn(columns: readonly Column[], named?: string): Column {
  const candidates = columns.filter((column) => column.type === 'timestamptz' && !column.nullable);
  if (named !== undefined) {
    const column = candidates.find((candidate) => candidate.name === named);
    if (column) return column;
    throw new TidemarkError(
      'BAD_INPUT',
      `--event-time: ${named} is not a NOT NULL timestamptz column of the table`,
    );
  }
  const chosen =
    candidates.length === 1
      ? candidates[0]
      : candidates.find((candidate) => candidate.name === 'created_at');
  if (chosen) return chosen;
  throw new TidemarkError(
    'BAD_INPUT',
    candidates.length === 0
      ? 'the table needs a NOT NULL timestamptz column for its event time (windows are cut by it), e.g. created_at:timestamptz'
      : `several timestamptz columns (${candidates.map((c) => c.name).join(', ')}): name the event time with --event-time`,
  );
}
