import { createDatabase, loadConfig, TidemarkError } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCommand } from './audit';
import { qualityCommand } from './quality';

// `tidemark audit` and `tidemark quality` against the warehouse, over runs this test writes for
// days of its own, picked at random in the 1980s and 90s so no other test's runs share them.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 2);
const tag = `reports-int-${randomUUID().slice(0, 8)}`;
const DAY_MS = 86_400_000;
const first = Date.UTC(1980, 0, 1) + Math.floor(Math.random() * 7_000) * DAY_MS;
const isoDay = (time: number) => new Date(time).toISOString().slice(0, 10);
// A: a published run, a later blocked one and a computing one; B: a published run with a
// warning; C: only a computing run; D: no run at all.
const [dayA, dayB, dayC, dayD] = [0, 1, 2, 3].map((offset) => isoDay(first + offset * DAY_MS)) as [
  string,
  string,
  string,
  string,
];
const runIds = {
  published: `${tag}-a-published`,
  blocked: `${tag}-a-blocked`,
  computingA: `${tag}-a-computing`,
  publishedB: `${tag}-b-published`,
  computingC: `${tag}-c-computing`,
};
let directory: string;

function run(runId: string, day: string, status: string, startedAfterHours: number) {
  const start = Date.parse(`${day}T00:00:00Z`);
  return {
    run_id: runId,
    workflow_id: `consolidate-${day}-${tag}`,
    day,
    range_start: new Date(start),
    range_end: new Date(start + DAY_MS),
    cutoff: new Date(start + DAY_MS + 30 * 60_000),
    reason: 'nightly',
    status,
    started_at: new Date(start + DAY_MS + startedAfterHours * 3_600_000),
    finished_at: status === 'computing' ? null : new Date(start + DAY_MS + 2 * 3_600_000),
    pipeline: `reports-int-${tag}`,
  };
}

function reconciled(
  runId: string,
  day: string,
  metric: string,
  minute: number,
  keyValues: readonly unknown[],
  provisional: number | null,
  final: number | null,
  cause: string,
) {
  const start = Date.parse(`${day}T10:00:00Z`) + minute * 60_000;
  return {
    run_id: runId,
    metric,
    window_start: new Date(start),
    window_end: new Date(start + 60_000),
    key_values: JSON.stringify(keyValues),
    provisional,
    final,
    difference: provisional === null || final === null ? null : final - provisional,
    cause,
  };
}

function result(runId: string, expectation: string, severity: string, passed: boolean) {
  const observed = { failing: passed ? 0 : 3 };
  return {
    run_id: runId,
    expectation,
    severity,
    passed,
    observed: JSON.stringify(observed),
    message: passed ? 'passed' : `failed: ${JSON.stringify(observed)}`,
  };
}

async function output(
  command: typeof auditCommand | typeof qualityCommand,
  argv: string[],
): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await command(argv, {
    warehouse,
    print: (line) => lines.push(line),
    cwd: directory,
  });
  return { code, text: lines.join('\n') };
}

async function rejection(promise: Promise<unknown>): Promise<TidemarkError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(TidemarkError);
  expect((error as TidemarkError).code).toBe('BAD_INPUT');
  return error as TidemarkError;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tidemark-reports-'));
  await warehouse('final.runs').insert([
    run(runIds.published, dayA, 'published', 1),
    run(runIds.blocked, dayA, 'blocked', 5),
    run(runIds.computingA, dayA, 'computing', 9),
    run(runIds.publishedB, dayB, 'published', 1),
    run(runIds.computingC, dayC, 'computing', 1),
  ]);
  await warehouse('audit.reconciliation').insert([
    reconciled(runIds.published, dayA, 'orders_per_minute', 0, ['EUR'], 5, 5, 'exact'),
    reconciled(
      runIds.published,
      dayA,
      'orders_per_minute',
      0,
      ['USD'],
      2,
      3,
      'late_beyond_lateness',
    ),
    reconciled(runIds.published, dayA, 'orders_per_minute', 1, ['EUR'], null, 4, 'unexplained'),
    reconciled(
      runIds.published,
      dayA,
      'revenue_per_minute',
      0,
      ['EUR'],
      1000,
      900,
      'changed_after_close',
    ),
    reconciled(runIds.published, dayA, 'customer_sessions', 0, ['<b>O&Brien</b>'], 2, 2, 'exact'),
    reconciled(runIds.blocked, dayA, 'orders_per_minute', 0, ['EUR'], 5, 9, 'unexplained'),
    reconciled(runIds.publishedB, dayB, 'orders_per_minute', 0, ['EUR'], 1, 1, 'exact'),
  ]);
  await warehouse('quality.results').insert([
    result(runIds.published, 'not_null:shop.orders:id', 'ERROR', true),
    result(runIds.blocked, 'not_null:shop.orders:id', 'ERROR', false),
    result(runIds.blocked, 'freshness:shop.orders', 'WARN', true),
    result(runIds.publishedB, 'not_null:shop.orders:id', 'ERROR', true),
    result(runIds.publishedB, 'freshness:shop.orders', 'WARN', false),
  ]);
});

afterAll(async () => {
  const ids = Object.values(runIds);
  // Reconciliation and gate results reference their run: they go first.
  await warehouse('audit.reconciliation').whereIn('run_id', ids).delete();
  await warehouse('quality.results').whereIn('run_id', ids).delete();
  await warehouse('final.runs').whereIn('run_id', ids).delete();
  await warehouse.destroy();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('tidemark audit', () => {
  it("shows the day's published run with a count for every cause", async () => {
    const { code, text } = await output(auditCommand, ['--date', dayA, '--format', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(text);
    expect(report.run).toMatchObject({ runId: runIds.published, status: 'published', day: dayA });
    expect(report).toMatchObject({ day: dayA, windows: 5, exact: 2, different: 3 });
    expect(report.causes).toEqual({
      exact: 2,
      late_beyond_lateness: 1,
      changed_after_close: 1,
      truncated: 0,
      kafka_gap: 0,
      dead_lettered: 0,
      unexplained: 1,
    });
    const orders = report.metrics.find(
      (metric: { metric: string }) => metric.metric === 'orders_per_minute',
    );
    expect(orders.largestDifferences.map((entry: { cause: string }) => entry.cause)).toEqual([
      'unexplained',
      'late_beyond_lateness',
    ]);
    expect(orders.largestDifferences[0]).toMatchObject({ provisional: null, final: 4 });
  });

  it('shows the runs of the pipeline asked for, naming it', async () => {
    const { text } = await output(auditCommand, [
      '--date',
      dayA,
      '--pipeline',
      `reports-int-${tag}`,
    ]);
    expect(text).toContain(`run ${runIds.published} (published)`);
    expect(text).toContain(`reconciled against pipeline reports-int-${tag}`);
    const error = await rejection(
      output(auditCommand, ['--date', dayA, '--pipeline', `other-${tag}`]),
    );
    expect(error.message).toContain(
      `no consolidation run for ${dayA} reconciled against pipeline other-${tag}`,
    );
  });

  it('shows one metric, as a table naming the run', async () => {
    const { text } = await output(auditCommand, ['--date', dayA, '--metric', 'revenue_per_minute']);
    expect(text).toContain(
      `audit of ${dayA} (metric revenue_per_minute): run ${runIds.published} (published), reason "nightly", cutoff ${dayB} 00:30:00Z`,
    );
    expect(text).toMatch(/revenue_per_minute +1 +0 +0 +1 +0 +0/);
    expect(text).toMatch(/currency=EUR +1000 +900 +-100 +changed_after_close/);
  });

  it('writes a self-contained html report and prints its path', async () => {
    const { code, text } = await output(auditCommand, ['--date', dayA, '--format', 'html']);
    expect(code).toBe(0);
    expect(text).toBe(join(directory, `tidemark-audit-${dayA}.html`));
    const html = await readFile(text, 'utf8');
    expect(html).toContain('<svg class="chart"');
    expect(html).toContain(runIds.published);
    expect(html).not.toContain('<b>O&Brien');
    expect(html).not.toMatch(/<script|https?:/);

    const named = await output(auditCommand, [
      '--date',
      dayA,
      '--format',
      'json',
      '--out',
      'a.json',
    ]);
    expect(named.text).toBe(join(directory, 'a.json'));
    expect(JSON.parse(await readFile(named.text, 'utf8')).causes.unexplained).toBe(1);
  });

  it('takes latest as the most recent day with a published run', async () => {
    const { text } = await output(auditCommand, ['--date', 'latest', '--format', 'json']);
    const report = JSON.parse(text);
    expect(report.day >= dayB).toBe(true);
    expect(report.run.status).toBe('published');
  });

  it('says which days have runs when the day has none, or none reconciled', async () => {
    const none = await rejection(output(auditCommand, ['--date', dayD]));
    expect(none.message).toMatch(
      new RegExp(`^no consolidation run for ${dayD}; the most recent days with runs: \\d{4}-`),
    );
    const unreconciled = await rejection(output(auditCommand, ['--date', dayC]));
    expect(unreconciled.message).toContain(
      `no run of ${dayC} has reconciled yet (its runs: ${runIds.computingC} computing)`,
    );
  });
});

describe('tidemark quality', () => {
  it("exits 1 when the day's latest gated run failed an ERROR expectation", async () => {
    const { code, text } = await output(qualityCommand, ['--date', dayA]);
    expect(code).toBe(1);
    expect(text).toContain(`run ${runIds.blocked} (blocked)`);
    expect(text).toMatch(/not_null:shop.orders:id +ERROR +FAILED +\{"failing":3\}/);
    expect(text).toContain(
      'gate: BLOCKED publication: 1 ERROR expectation failed (not_null:shop.orders:id)',
    );
  });

  it('exits 0 when only warnings failed', async () => {
    const { code, text } = await output(qualityCommand, ['--date', dayB, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({
      outcome: 'passed_with_warnings',
      blocked: false,
      failedWarnings: ['freshness:shop.orders'],
      run: { runId: runIds.publishedB },
    });
  });

  it('says so when no run of the day went through the gate', async () => {
    const error = await rejection(output(qualityCommand, ['--date', dayC]));
    expect(error.message).toContain(`no run of ${dayC} has been through the quality gate yet`);
  });
});
