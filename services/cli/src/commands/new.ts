import {
  EVENT_CONTRACTS,
  METRICS,
  type EventContract,
  type MetricDefinition,
} from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  parseNewContractVersionArgs,
  planNewContractVersion,
} from '../scaffold/new-contract-version';
import { parseNewMetricArgs, planNewMetric } from '../scaffold/new-metric';
import { parseNewTableArgs, planNewTable } from '../scaffold/new-table';
import { NEW_USAGE } from '../scaffold/usage';
import { projectLayout, writeChanges, type ProjectLayout } from '../scaffold/project';
import { askNewContractVersion, askNewMetric, askNewTable, type Ask } from '../scaffold/questions';

// `tidemark new table|metric|contract-version`: scaffolds what a team adds to the platform,
// prints what it wrote and what to run next. The catalogue it checks against is the one this
// process loaded; the snapshots and checks that need the new files run in a fresh process.

export interface NewDependencies {
  print: (line: string) => void;
  layout?: ProjectLayout;
  contracts?: readonly EventContract[];
  metrics?: readonly MetricDefinition[];
  /** Runs `tidemark <args>` in a fresh process of the project; returns its exit code. */
  tidemark?: (args: string[]) => number;
  /** Asks for what the arguments leave out (in a terminal); without it, that is bad input. */
  ask?: Ask;
}

export async function newCommand(argv: string[], dependencies: NewDependencies): Promise<number> {
  const { print } = dependencies;
  const layout = dependencies.layout ?? projectLayout();
  const contracts = dependencies.contracts ?? EVENT_CONTRACTS;
  const tidemark = dependencies.tidemark ?? projectCli(layout, print);
  // The registry lists each table's versions oldest first.
  const current = (table: string) =>
    contracts.filter((contract) => contract.table === table).at(-1);
  const [kind, ...given] = argv;
  const { ask } = dependencies;
  switch (kind) {
    case 'table': {
      const rest = ask ? await askNewTable(given, ask) : given;
      const table = parseNewTableArgs(rest);
      const written = await writeChanges(layout, planNewTable(table, layout, contracts));
      written.forEach((line) => print(line));
      const exported = tidemark(['contracts', 'export']);
      print('');
      print(
        `next: npx tidemark migrate                 creates ${table.names.table} in the source`,
      );
      print('      npx tidemark connector register      captures it (and creates its topic)');
      print('      restart `tidemark stream` and `tidemark worker`; then');
      print(
        `      npx tidemark new metric <name> --table ${table.names.table} --aggregate count --window tumbling:1h`,
      );
      return exported;
    }
    case 'metric': {
      const rest = ask ? await askNewMetric(given, ask, contracts) : given;
      const input = parseNewMetricArgs(rest, current);
      const contractFor = (table: string, version: number) =>
        contracts.find((contract) => contract.table === table && contract.version === version);
      const changes = planNewMetric(input, layout, dependencies.metrics ?? METRICS, contractFor);
      (await writeChanges(layout, changes)).forEach((line) => print(line));
      const checked = tidemark(['contracts', 'check']);
      print('');
      print(
        `next: restart \`tidemark stream\` (it computes ${input.name} from the changes it reads`,
      );
      print(
        '      next) and `tidemark worker`; for the days before: a new pipeline beside the old,',
      );
      print(`      or \`npx tidemark backfill --metric ${input.name} --from <day> --to <day>\``);
      return checked;
    }
    case 'contract-version': {
      const rest = ask ? await askNewContractVersion(given, ask, contracts) : given;
      const request = parseNewContractVersionArgs(rest);
      const previous = current(request.names.table);
      const changes = planNewContractVersion(request, layout, previous);
      (await writeChanges(layout, changes)).forEach((line) => print(line));
      const exported = tidemark(['contracts', 'export']);
      const checked = exported === 0 ? tidemark(['contracts', 'check']) : exported;
      print('');
      print(
        request.columns.length === 0
          ? 'next: fill in the new columns: the row of the new version, and the migration; then'
          : `next: deploy \`tidemark stream\` and \`tidemark worker\` with the new version, then`,
      );
      print('      npx tidemark migrate (the source change last: see docs/contracts.md)');
      return checked;
    }
    default:
      throw new TidemarkError(
        'BAD_INPUT',
        `expected "table", "metric" or "contract-version", got ${JSON.stringify(kind ?? '')}\n\n${NEW_USAGE}`,
      );
  }
}

/** `tidemark <args>` of the project being changed, in a fresh process that loads its new files. */
function projectCli(layout: ProjectLayout, print: (line: string) => void) {
  return (args: string[]): number => {
    const run = spawnSync(
      process.execPath,
      [join(layout.root, 'services/cli/bin/tidemark.js'), ...args],
      {
        cwd: layout.root,
        encoding: 'utf8',
      },
    );
    for (const line of `${run.stdout}${run.stderr}`.split('\n')) {
      if (line.trim() !== '') print(line);
    }
    return run.status ?? 1;
  };
}
