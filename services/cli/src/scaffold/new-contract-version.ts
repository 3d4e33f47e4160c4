import type { EventContract } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import { parseCommandLine } from '../cli/arguments';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { baseValidator, encodingsOf, parseColumns, type Column } from './columns';
import { contractIdentifier, nextMigrationNumber, tableNames, type TableNames } from './names';
import { render, type FileChange, type ProjectLayout } from './project';
import { addNamedImport, addToArray, openSource } from './source-edits';
import { NEW_CONTRACT_VERSION_USAGE } from './usage';

// `tidemark new contract-version <schema.table> [--add <columns>]`: the table's next contract
// version beside the last (the columns added optional, so it stays compatible under the
// table's mode), registered, and the source migration that adds the columns (a stub to fill in
// without --add).

/** The options it takes, each with a value (the questions read them too). */
export const NEW_CONTRACT_VERSION_OPTIONS = { add: { type: 'string' } } as const;

export interface NewContractVersion {
  names: TableNames;
  columns: Column[];
}

export function parseNewContractVersionArgs(argv: readonly string[]): NewContractVersion {
  const parsed = parseCommandLine(argv, NEW_CONTRACT_VERSION_OPTIONS, NEW_CONTRACT_VERSION_USAGE);
  const [table, ...stray] = parsed.positionals;
  if (table === undefined || stray.length > 0) {
    throw new TidemarkError('BAD_INPUT', `expected one table\n\n${NEW_CONTRACT_VERSION_USAGE}`);
  }
  const added = parsed.values.add;
  // Added columns are nullable: rows already in the table have no value for them.
  const columns =
    added === undefined
      ? []
      : parseColumns(
          added
            .split(',')
            .map((column) => column.trim().replace(/:null$/, ''))
            .filter((column) => column !== '')
            .map((column) => (column.endsWith(':pk') ? column : `${column}:null`))
            .join(','),
          { flag: '--add', primaryKey: 'refused' },
        );
  return { names: tableNames(table), columns };
}

export function planNewContractVersion(
  request: NewContractVersion,
  layout: ProjectLayout,
  current: EventContract | undefined,
): FileChange[] {
  const { names, columns } = request;
  if (current === undefined) {
    throw new TidemarkError(
      'BAD_INPUT',
      `${names.table} has no event contract yet: tidemark new table ${names.table} --columns ...`,
    );
  }
  const known = Object.keys(current.row.shape);
  const clashes = columns.filter((column) => known.includes(column.name));
  if (clashes.length > 0) {
    throw new TidemarkError(
      'BAD_INPUT',
      `--add: ${names.table} v${current.version} has ${clashes.map((c) => c.name).join(', ')} already`,
    );
  }
  const contractFile = join(layout.eventsDir, `${names.fileStem}.ts`);
  const previous = contractIdentifier(names, current.version);
  const source = existsSync(contractFile) ? openSource(contractFile) : undefined;
  if (source?.getVariableDeclaration(previous) === undefined) {
    throw new TidemarkError(
      'BAD_INPUT',
      `expected ${names.table} v${current.version} as ${previous} in ${relative(layout.root, contractFile)}; declare the next version beside it by hand`,
    );
  }
  const version = current.version + 1;
  const identifier = contractIdentifier(names, version);
  const migration = `${nextMigrationNumber(readdirSync(layout.sourceMigrationsDir))}-${names.fileStem}-v${version}`;
  const migrationModule = `${names.identifier}V${version}Columns`;
  const data = {
    ...names,
    version,
    previousVersion: current.version,
    previous,
    identifier,
    columns,
    migration,
    validator: baseValidator,
  };
  const registry = openSource(layout.registry);
  addToArray(registry, {
    array: 'EVENT_CONTRACTS',
    element: identifier,
    import: { moduleSpecifier: `./${names.fileStem}`, namedImport: identifier },
  });
  const index = openSource(layout.migrationIndex);
  addToArray(index, {
    array: 'SOURCE_MIGRATIONS',
    element: `{ name: '${migration}', ...${migrationModule} }`,
    import: { moduleSpecifier: `./source/${migration}`, namespaceImport: migrationModule },
  });
  // The version beside the last, with the imports its columns' types need.
  source.addStatements(render('contract-version', data));
  for (const encoding of encodingsOf(columns)) {
    addNamedImport(source, '../debezium/encodings', encoding);
  }
  if (columns.some((column) => column.zod.startsWith('z.'))) addNamedImport(source, 'zod', 'z');
  return [
    { path: contractFile, action: 'update', contents: source.getFullText() },
    { path: layout.registry, action: 'update', contents: registry.getFullText() },
    {
      path: join(layout.sourceMigrationsDir, `${migration}.ts`),
      action: 'create',
      contents: render('column-migration', data),
    },
    { path: layout.migrationIndex, action: 'update', contents: index.getFullText() },
  ];
}
