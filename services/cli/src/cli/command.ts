import type { CommandContext } from './context';

/** The help's sections, in the order it shows them. */
export const SECTIONS = [
  'stack',
  'contracts',
  'run',
  'dead letters',
  'batch (Temporal; a worker must run)',
  'reports',
  'walk-through',
] as const;

export type Section = (typeof SECTIONS)[number];

/** One `tidemark <name>` command: its help, and how it runs. */
export interface CliCommand {
  name: string;
  section: Section;
  /** Its entry in `tidemark --help`: each line a synopsis, or its description indented. */
  summary: string;
  /** Its own usage, printed on `tidemark <name> --help` (default: its summary). */
  usage?: string;
  /** Without arguments it only prints its usage, and exits 2. */
  needsArguments?: boolean;
  /**
   * Runs the command with the arguments after its name; returns the exit code. Bad input is a
   * `BAD_INPUT` TidemarkError, which the runner prints after `tidemark <name>: ` and exits 2.
   */
  run(argv: string[], context: CommandContext): Promise<number>;
}
