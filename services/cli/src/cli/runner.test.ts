import { TidemarkError, type Config } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import type { CliCommand } from './command';
import { COMMANDS } from './commands';
import { CommandContext, type CommandIo } from './context';
import { generalUsage, runCli } from './runner';

function capture(): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, print: (line) => out.push(line), printError: (line) => err.push(line) };
}

const noConfig = (): Config => {
  throw new Error('this command should not need the configuration');
};

/** A command that records its runs and what its context closed. */
function probe(run: CliCommand['run'], options: Partial<CliCommand> = {}) {
  const runs: string[][] = [];
  const closed: string[] = [];
  const command: CliCommand = {
    name: 'probe',
    section: 'reports',
    summary: '  probe                  a command for tests',
    ...options,
    run: (argv, context) => {
      runs.push(argv);
      context.onClose(() => void closed.push('resource'));
      return run(argv, context);
    },
  };
  const createContext = (name: string, io: CommandIo) => new CommandContext(name, io, noConfig);
  return { command, runs, closed, createContext };
}

describe('runCli', () => {
  it('runs the named command with the arguments after its name, and closes what it opened', async () => {
    const { command, runs, closed, createContext } = probe(async () => 3);
    const io = capture();
    expect(await runCli(['probe', '--x', '1'], [command], io, createContext)).toBe(3);
    expect(runs).toEqual([['--x', '1']]);
    expect(closed).toEqual(['resource']);
  });

  it('prints bad input after the command name, with where to find its usage, and exits 2', async () => {
    const { command, closed, createContext } = probe(async () => {
      throw new TidemarkError('BAD_INPUT', '--date: expected yyyy-mm-dd, got "monday"');
    });
    const io = capture();
    expect(await runCli(['probe', '--date', 'monday'], [command], io, createContext)).toBe(2);
    expect(io.err).toEqual([
      'tidemark probe: --date: expected yyyy-mm-dd, got "monday"\n(tidemark probe --help: its usage)',
    ]);
    expect(closed).toEqual(['resource']);
  });

  it('leaves other failures to its caller, after closing what the command opened', async () => {
    const { command, closed, createContext } = probe(async () => {
      throw new Error('connection refused');
    });
    await expect(runCli(['probe'], [command], capture(), createContext)).rejects.toThrow(
      'connection refused',
    );
    expect(closed).toEqual(['resource']);
  });

  it("does not let a failure to close hide the command's own failure", async () => {
    const { command, createContext } = probe(async (_argv, context) => {
      context.onClose(() => Promise.reject(new Error('close failed')));
      throw new Error('the real problem');
    });
    await expect(runCli(['probe'], [command], capture(), createContext)).rejects.toThrow(
      'the real problem',
    );
  });

  it('prints a command’s usage on --help without running it', async () => {
    const { command, runs, createContext } = probe(async () => 0, {
      usage: 'usage: tidemark probe',
    });
    const io = capture();
    expect(await runCli(['probe', '--date', 'x', '--help'], [command], io, createContext)).toBe(0);
    expect(io.out).toEqual(['usage: tidemark probe']);
    expect(runs).toEqual([]);
  });

  it('prints the usage and exits 2 for a command that needs arguments and got none', async () => {
    const { command, runs, createContext } = probe(async () => 0, { needsArguments: true });
    const io = capture();
    expect(await runCli(['probe'], [command], io, createContext)).toBe(2);
    expect(io.err.join('\n')).toContain('probe                  a command for tests');
    expect(runs).toEqual([]);
  });

  it('names an unknown command, and shows every command without one', async () => {
    const { command, createContext } = probe(async () => 0);
    const io = capture();
    expect(await runCli(['prob'], [command], io, createContext)).toBe(2);
    expect(io.err[0]).toMatch(/^tidemark: unknown command "prob"\n\nusage: tidemark <command>/);
    expect(await runCli([], [command], capture(), createContext)).toBe(2);
    const help = capture();
    expect(await runCli(['--help'], [command], help, createContext)).toBe(0);
    expect(help.out).toEqual([generalUsage([command])]);
  });
});

describe('the command table', () => {
  it('names each command once, and the help shows every one, by section', () => {
    const names = COMMANDS.map((command) => command.name);
    expect(new Set(names).size).toBe(names.length);
    const usage = generalUsage(COMMANDS);
    for (const command of COMMANDS) expect(usage).toContain(command.summary);
    // Each summary starts with the name it is run by.
    for (const command of COMMANDS) {
      expect(command.summary.trimStart().startsWith(command.name)).toBe(true);
    }
    expect(usage.indexOf('\nstack\n')).toBeLessThan(usage.indexOf('\nreports\n'));
  });
});
