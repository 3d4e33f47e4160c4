import { TidemarkError } from '@tidemark/runtime';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * `node:util` parseArgs with positionals allowed, its complaint (an unknown option, a missing
 * value) turned into a BAD_INPUT error followed by the command's usage.
 */
export function parseCommandLine<Options extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: Options,
  usage: string,
) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options, strict: true });
  } catch (error) {
    throw new TidemarkError('BAD_INPUT', `${(error as Error).message}\n\n${usage}`, {
      cause: error,
    });
  }
}
