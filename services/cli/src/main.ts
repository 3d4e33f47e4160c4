import { TidemarkError } from '@tidemark/runtime';
import { COMMANDS } from './cli/commands';
import { runCli } from './cli/runner';

// `tidemark <command>`: the commands are a table (cli/commands.ts), run by one runner.

const write = (stream: NodeJS.WriteStream) => (line: string) => stream.write(`${line}\n`);

runCli(process.argv.slice(2), COMMANDS, {
  print: write(process.stdout),
  printError: write(process.stderr),
  rewrite: process.stdout.isTTY ? (line) => process.stdout.write(`\r${line}\x1b[K`) : undefined,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof TidemarkError) {
      process.stderr.write(`tidemark: ${error.message}\n`);
      if (error.cause instanceof Error) process.stderr.write(`  cause: ${error.cause.message}\n`);
    } else {
      process.stderr.write(
        `tidemark: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  },
);
