import type { EventContract } from '@tidemark/contracts';
import { TidemarkError } from '@tidemark/runtime';
import { parseArgs } from 'node:util';
import { parseColumns } from './columns';
import { NEW_CONTRACT_VERSION_OPTIONS } from './new-contract-version';
import { NEW_METRIC_OPTIONS, parseWindowSpec } from './new-metric';
import { NEW_TABLE_OPTIONS } from './new-table';
import { tableNames } from './names';

// In a terminal, `tidemark new ...` asks for what its arguments leave out instead of refusing:
// each answer is checked as the argument would be, and the arguments are then read as usual.

/** How a question is put: a prompt library in a terminal, a script in tests. */
export interface Ask {
  text(question: {
    message: string;
    default?: string;
    /** A problem with the answer, or undefined when it will do. */
    check?: (answer: string) => string | undefined;
  }): Promise<string>;
  choose(question: {
    message: string;
    choices: readonly { name: string; value: string }[];
  }): Promise<string>;
}

/** The problem a parser finds in an answer, or undefined. */
function problemOf(read: () => unknown): string | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    return error instanceof TidemarkError ? error.message.split('\n\n')[0] : String(error);
  }
}

/**
 * What `argv` says about the command's options (each takes a value) and its first positional,
 * without judging it: the command's own parser does that with the completed arguments.
 */
function given(argv: readonly string[], options: Record<string, unknown>) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    options: Object.fromEntries(
      Object.keys(options).map((name) => [name, { type: 'string' as const }]),
    ),
  });
  return { values, first: positionals[0] };
}

/** `tidemark new table` arguments, with the table and its columns asked for when missing. */
export async function askNewTable(argv: readonly string[], ask: Ask): Promise<string[]> {
  const { values, first } = given(argv, NEW_TABLE_OPTIONS);
  const completed = [...argv];
  if (first === undefined) {
    const table = await ask.text({
      message: 'Table to capture (schema.table):',
      check: (answer) => problemOf(() => tableNames(answer)),
    });
    completed.unshift(table);
  }
  if (values.columns === undefined) {
    const columns = await ask.text({
      message: 'Columns, name:type[:pk|:null] comma-separated:',
      default: 'id:uuid:pk,created_at:timestamptz',
      check: (answer) => problemOf(() => parseColumns(answer)),
    });
    completed.push('--columns', columns);
  }
  return completed;
}

/** `tidemark new metric` arguments, with the name, table, aggregate and window asked for. */
export async function askNewMetric(
  argv: readonly string[],
  ask: Ask,
  contracts: readonly EventContract[],
): Promise<string[]> {
  const { values, first } = given(argv, NEW_METRIC_OPTIONS);
  const completed = [...argv];
  if (first === undefined) {
    const name = await ask.text({
      message: 'Metric name (lower snake_case):',
      check: (answer) =>
        /^[a-z][a-z0-9_]*$/.test(answer) ? undefined : 'lower snake_case, e.g. refunds_per_hour',
    });
    completed.unshift(name);
  }
  let table = typeof values.table === 'string' ? values.table : undefined;
  if (table === undefined) {
    const tables = [...new Set(contracts.map((contract) => contract.table))];
    table = await ask.choose({
      message: 'Source table:',
      choices: tables.map((name) => ({ name, value: name })),
    });
    completed.push('--table', table);
  }
  if (values.aggregate === undefined) {
    const fn = await ask.choose({
      message: 'Aggregate:',
      choices: ['count', 'sum', 'avg', 'min', 'max', 'count_distinct'].map((name) => ({
        name,
        value: name,
      })),
    });
    let aggregate = fn;
    if (fn !== 'count') {
      const contract = contracts.filter((candidate) => candidate.table === table).at(-1);
      const fields = contract ? Object.keys(contract.row.shape) : [];
      const field = await ask.choose({
        message: `${fn} of which field:`,
        choices: fields.map((name) => ({ name, value: name })),
      });
      aggregate = `${fn}:${field}`;
    }
    completed.push('--aggregate', aggregate);
  }
  if (values.window === undefined) {
    const window = await ask.text({
      message: 'Window (tumbling:1h, hopping:5m/1m, session:30m):',
      default: 'tumbling:1h',
      check: (answer) => problemOf(() => parseWindowSpec(answer)),
    });
    completed.push('--window', window);
  }
  return completed;
}

/** `tidemark new contract-version` arguments, with the table asked for when missing. */
export async function askNewContractVersion(
  argv: readonly string[],
  ask: Ask,
  contracts: readonly EventContract[],
): Promise<string[]> {
  if (given(argv, NEW_CONTRACT_VERSION_OPTIONS).first !== undefined) return [...argv];
  const tables = [...new Set(contracts.map((contract) => contract.table))];
  const table = await ask.choose({
    message: 'Table whose next contract version to declare:',
    choices: tables.map((name) => ({ name, value: name })),
  });
  return [table, ...argv];
}
