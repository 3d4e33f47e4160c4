import type { EventContract } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import { parseCommandLine } from '../cli/arguments';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodingsOf, eventTimeColumn, parseColumns, type Column } from './columns';
import { contractIdentifier, nextMigrationNumber, tableNames, type TableNames } from './names';
import { readText, render, type FileChange, type ProjectLayout } from './project';
import { addToArray, openSource } from './source-edits';
import { NEW_TABLE_USAGE } from './usage';

// `tidemark new table <schema.table> --columns ...`: everything a captured table needs, in one
// set of file changes: its migration (listed), its event contract v1 (registered) with a test,
// the connector's table list, and its quality expectations.

/** The options it takes, each with a value (the questions read them too). */
export const NEW_TABLE_OPTIONS = {
  columns: { type: 'string' },
  'event-time': { type: 'string' },
  owner: { type: 'string', default: 'data-team' },
} as const;

export interface NewTable {
  names: TableNames;
  columns: Column[];
  eventTime: string;
  owner: string;
}

export function parseNewTableArgs(argv: readonly string[]): NewTable {
  const parsed = parseCommandLine(argv, NEW_TABLE_OPTIONS, NEW_TABLE_USAGE);
  const [table, ...stray] = parsed.positionals;
  if (table === undefined || stray.length > 0 || parsed.values.columns === undefined) {
    throw new TidemarkError(
      'BAD_INPUT',
      `expected one table and its --columns\n\n${NEW_TABLE_USAGE}`,
    );
  }
  const columns = parseColumns(parsed.values.columns);
  return {
    names: tableNames(table),
    columns,
    eventTime: eventTimeColumn(columns, parsed.values['event-time']).name,
    owner: parsed.values.owner,
  };
}

/** The file changes that add the table; refuses a table that already has a contract. */
export function planNewTable(
  table: NewTable,
  layout: ProjectLayout,
  contracts: readonly EventContract[],
): FileChange[] {
  const { names, columns, eventTime } = table;
  if (contracts.some((contract) => contract.table === names.table)) {
    throw new TidemarkError(
      'BAD_INPUT',
      `${names.table} already has an event contract; to change its columns: tidemark new contract-version ${names.table}`,
    );
  }
  const identifier = contractIdentifier(names, 1);
  const primaryKey = columns.filter((column) => column.primaryKey).map((column) => column.name);
  const data = { ...names, identifier, columns, primaryKey, eventTime, owner: table.owner };
  const encodings = encodingsOf(columns);
  const sample = Object.fromEntries(columns.map((column) => [column.name, column.sample]));

  const migrations = readdirSync(layout.sourceMigrationsDir);
  const migration = `${nextMigrationNumber(migrations)}-${names.fileStem}`;
  const migrationModule = `${names.identifier}Table`;

  return [
    {
      path: join(layout.eventsDir, `${names.fileStem}.ts`),
      action: 'create',
      contents: render('contract', { ...data, encodings }),
    },
    {
      path: join(layout.eventsDir, `${names.fileStem}.test.ts`),
      action: 'create',
      contents: render('contract-test', { ...data, sample }),
    },
    edited(layout.registry, (file) =>
      addToArray(file, {
        array: 'EVENT_CONTRACTS',
        element: identifier,
        import: { moduleSpecifier: `./${names.fileStem}`, namedImport: identifier },
      }),
    ),
    {
      path: join(layout.sourceMigrationsDir, `${migration}.ts`),
      action: 'create',
      contents: render('table-migration', data),
    },
    edited(layout.migrationIndex, (file) =>
      addToArray(file, {
        array: 'SOURCE_MIGRATIONS',
        element: `{ name: '${migration}', ...${migrationModule} }`,
        import: { moduleSpecifier: `./source/${migration}`, namespaceImport: migrationModule },
      }),
    ),
    edited(layout.expectations, (file) => {
      const fields = [...new Set([...primaryKey, eventTime])].map((field) => `'${field}'`);
      addToArray(file, {
        array: 'EXPECTATIONS',
        element: `{ kind: 'not_null', table: '${names.table}', fields: [${fields.join(', ')}], severity: 'ERROR' }`,
      });
      addToArray(file, {
        array: 'EXPECTATIONS',
        element: `{ kind: 'row_count_matches_source', table: '${names.table}', tolerance: 0.01, severity: 'ERROR' }`,
      });
    }),
    connectorCapturing(layout.connectorConfig, names),
  ];
}

/** An update of a TypeScript file through its syntax tree. */
function edited(path: string, edit: (file: ReturnType<typeof openSource>) => void): FileChange {
  const file = openSource(path);
  edit(file);
  return { path, action: 'update', contents: file.getFullText() };
}

/** The connector config with the table (and its schema) in its include lists. */
function connectorCapturing(path: string, names: TableNames): FileChange {
  const config = JSON.parse(readText(path)) as Record<string, string>;
  const listed = (key: string, value: string) => {
    const values = (config[key] ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (!values.includes(value)) values.push(value);
    config[key] = values.join(',');
  };
  listed('table.include.list', names.table);
  listed('schema.include.list', names.schema);
  return { path, action: 'update', contents: `${JSON.stringify(config, null, 2)}\n` };
}
