import { TidemarkError } from '@tidemark/runtime';
import { Eta } from 'eta';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { REPO_ROOT } from '../paths';

// Where a scaffolder reads and writes in the project, how it renders new files (Eta templates
// in ./templates), and how it writes them: every file checked before any is written, so a
// refusal leaves the project as it was.

export interface ProjectLayout {
  root: string;
  eventsDir: string;
  registry: string;
  metricsDir: string;
  catalogue: string;
  expectations: string;
  sourceMigrationsDir: string;
  migrationIndex: string;
  connectorConfig: string;
}

export function projectLayout(root: string = REPO_ROOT): ProjectLayout {
  return {
    root,
    eventsDir: join(root, 'contracts/src/events'),
    registry: join(root, 'contracts/src/events/registry.ts'),
    metricsDir: join(root, 'contracts/src/metrics'),
    catalogue: join(root, 'contracts/src/metrics/catalog.ts'),
    expectations: join(root, 'contracts/src/quality/expectations.ts'),
    sourceMigrationsDir: join(root, 'migrations/src/source'),
    migrationIndex: join(root, 'migrations/src/migrate.ts'),
    connectorConfig: join(root, 'infra/connect/shop-connector.json'),
  };
}

const templates = new Eta({
  views: fileURLToPath(new URL('./templates', import.meta.url)),
  autoEscape: false,
  autoTrim: [false, 'nl'],
});

/** Renders a template of ./templates (`contract` for contract.eta) with its data. */
export function render(template: string, data: object): string {
  return templates.render(template, data);
}

/** A file a scaffolder creates, or an existing one it changes. */
export interface FileChange {
  path: string;
  action: 'create' | 'update';
  contents: string;
}

/**
 * Writes the changes, formatted as the project formats them (Prettier, its own settings), after
 * checking them all: a file to create that exists, or one to update that does not, refuses the
 * whole set. Returns the lines that say what was written, paths relative to the project.
 */
export async function writeChanges(
  layout: ProjectLayout,
  changes: readonly FileChange[],
): Promise<string[]> {
  const problems = changes.flatMap((change) => {
    const exists = existsSync(change.path);
    const shown = relative(layout.root, change.path);
    if (change.action === 'create' && exists) return [`${shown} exists; not overwriting it`];
    if (change.action === 'update' && !exists) return [`${shown} does not exist`];
    return [];
  });
  if (problems.length > 0) throw new TidemarkError('BAD_INPUT', problems.join('\n'));
  const formatted = await Promise.all(
    changes.map(async (change) => {
      const options = (await prettier.resolveConfig(change.path)) ?? {};
      const contents = await prettier.format(change.contents, {
        ...options,
        filepath: change.path,
      });
      return { ...change, contents };
    }),
  );
  return formatted.map((change) => {
    mkdirSync(dirname(change.path), { recursive: true });
    writeFileSync(change.path, change.contents);
    const verb = change.action === 'create' ? 'created' : 'updated';
    return `${verb.padEnd(8)} ${relative(layout.root, change.path)}`;
  });
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
