import { TidemarkError } from '@tidemark/runtime';
import { SECTIONS, type CliCommand } from './command';
import { CommandContext, type CommandIo } from './context';

/** `tidemark --help`: every command's summary, by section. */
export function generalUsage(commands: readonly CliCommand[]): string {
  const sections = SECTIONS.flatMap((section) => {
    const members = commands.filter((command) => command.section === section);
    if (members.length === 0) return [];
    return [[section, ...members.map((command) => command.summary)].join('\n')];
  });
  return `usage: tidemark <command> [--help]\n\n${sections.join('\n\n')}`;
}

/**
 * Runs `tidemark <argv>` with a command of the table and returns its exit code: the command's
 * own, 0 for help, 2 for bad input (printed after `tidemark <name>: `) or a missing command.
 * Whatever the command opened through its context is closed when it ends. Any other error is
 * the caller's to report (exit 1).
 */
export async function runCli(
  argv: readonly string[],
  commands: readonly CliCommand[],
  io: CommandIo,
  createContext: (name: string, io: CommandIo) => CommandContext = (name, output) =>
    new CommandContext(name, output),
): Promise<number> {
  const [name, ...rest] = argv;
  const usage = generalUsage(commands);
  if (name === undefined) {
    io.printError(usage);
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    io.print(usage);
    return 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.printError(`tidemark: unknown command ${JSON.stringify(name)}\n\n${usage}`);
    return 2;
  }
  const ownUsage = command.usage ?? `usage:\n${command.summary}`;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.print(ownUsage);
    return 0;
  }
  if (command.needsArguments && rest.length === 0) {
    io.printError(ownUsage);
    return 2;
  }
  const context = createContext(name, io);
  let outcome: { code: number } | { error: unknown };
  try {
    outcome = { code: await command.run(rest, context) };
  } catch (error) {
    outcome = { error };
  }
  try {
    await context.close();
  } catch (error) {
    // A failure to close matters only when the command itself went well.
    if ('code' in outcome) throw error;
  }
  if ('code' in outcome) return outcome.code;
  const { error } = outcome;
  if (error instanceof TidemarkError && error.code === 'BAD_INPUT') {
    const hint = error.message.includes('usage:') ? '' : `\n(tidemark ${name} --help: its usage)`;
    io.printError(`tidemark ${name}: ${error.message}${hint}`);
    return 2;
  }
  throw error;
}
