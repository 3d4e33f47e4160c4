import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../paths';

// What a team does first with the template, on a copy of this project: add a table, a metric
// and a contract version with the README's three commands, then run the project's own checks.
// Adding to the catalogue must never break a test that was green (issue 15).

let copy: string;

/**
 * Runs a command in the copy; resolves to its exit code and everything it printed, without
 * colours. Asynchronous: a test blocked for minutes would starve the test runner's own messages.
 */
function inCopy(command: string, args: string[]): Promise<{ status: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: copy,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({ status: status ?? 1, output: output.replace(ANSI, '') }),
    );
  });
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'tidemark-template-'));
  // The project's files as a clone has them, and its installed dependencies: the root's and
  // each workspace's own (a version npm could not hoist; the workspace links are relative, so
  // they point into the copy).
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '');
  for (const file of files) cpSync(join(REPO_ROOT, file), join(copy, file), { recursive: true });
  const packages = files.filter((file) => basename(file) === 'package.json').map(dirname);
  for (const dir of packages) {
    const installed = join(REPO_ROOT, dir, 'node_modules');
    if (!existsSync(installed)) continue;
    cpSync(installed, join(copy, dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  }
}, 300_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('a team extending the template', () => {
  it('adds a table, a metric and a contract version with three commands', async () => {
    const steps = [
      [
        'new',
        'table',
        'shop.refunds',
        '--columns',
        'id:uuid:pk,order_id:uuid,amount_minor:bigint,currency:text,created_at:timestamptz',
      ],
      [
        'new',
        'metric',
        'refunds_per_hour',
        '--table',
        'shop.refunds',
        '--aggregate',
        'count',
        '--window',
        'tumbling:1h',
      ],
      ['new', 'contract-version', 'shop.refunds'],
    ];
    for (const step of steps) {
      const { status, output } = await inCopy('npx', ['tidemark', ...step]);
      expect(status, `tidemark ${step.join(' ')}:\n${output}`).toBe(0);
    }
    const check = await inCopy('npx', ['tidemark', 'contracts', 'check']);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toContain('ok    shop.refunds v2 (BACKWARD)');
    expect(check.output).toContain('ok    metric refunds_per_hour on shop.refunds v1');
  }, 120_000);

  it("keeps the project's formatting, types, lint and unit tests green", async () => {
    const formatted = await inCopy('npx', ['prettier', '--check', '--log-level', 'warn', '.']);
    expect(formatted.status, formatted.output).toBe(0);
    const checks = await inCopy('npx', [
      'turbo',
      'run',
      'lint',
      'typecheck',
      'test',
      '--continue',
      '--output-logs=errors-only',
    ]);
    expect(checks.status, checks.output.slice(-6000)).toBe(0);
    // The scaffolded contract's own test ran among them.
    const contractTest = await inCopy('npx', [
      'vitest',
      'run',
      '--root',
      'contracts',
      'src/events/shop-refunds.test.ts',
    ]);
    expect(contractTest.status, contractTest.output).toBe(0);
    expect(contractTest.output).toMatch(/Tests\s+2 passed/);
  }, 900_000);
});
