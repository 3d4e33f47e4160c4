import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import { resetPipeline } from '@tidemark/stream';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { killHard, startStreamProcess as startProcess } from '../../../../test/integration/process';
import {
  differencesOf,
  orderValueDifferences,
  provisionalSessions,
  sessionsFromSource,
} from '../../../../test/integration/shop-values';
import { writeOrderTraffic } from '../../../../test/integration/order-traffic';
import { REPO_ROOT } from '../paths';

// One pipeline in several stream processes (docs/stream-design.md): two start, a third joins
// during the load and one is killed with SIGKILL. Every partition's state has one writer, so the
// values must end exact — the per-minute windows and the customers' sessions, whose keys are
// not the topic's — and no backend may wait on a row another partition's transaction holds.

const config = loadConfig();
const source = createDatabase(config.source, 4);
const warehouse = createDatabase(config.warehouse, 2);
const pipeline = `stream-scale-${randomUUID()}`;
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );
// Orders of now, checked per minute; and older orders, in sessions only, spread so that each
// customer has sessions that bridging orders merge and deletes split.
const [recent, older] = [letters(), letters()];
const customerPrefix = pipeline;
const MINUTE = 60_000;
const running = new Set<ChildProcess>();

/** A stream process of this run's pipeline; the older orders' lateness is said only at warn. */
function startStreamProcess(): ChildProcess {
  return startProcess(REPO_ROOT, pipeline, running, 'error');
}

/**
 * When an older order of customer `customer` happened: in one of two clusters over 30 minutes
 * apart (two sessions), or, for the first two customers now and then, between them (a bridge
 * merging their sessions, until deletes take it away).
 */
function olderTime(customer: number, step: number, index: number): Date {
  const bridge = customer < 2 && step % 3 === 0;
  const minutesAgo = bridge ? 25 : ([44, 42, 8, 6][(step + index) % 4] as number);
  return new Date(Date.now() - minutesAgo * MINUTE - ((step * 7 + index) % 50) * 1_000);
}

/** Inserts, updates and deletes of both kinds of orders until `until` says stop. */
function writeTraffic(until: () => boolean): Promise<number> {
  return writeOrderTraffic(source, {
    until,
    deleteEvery: 4,
    ordersOf: (step) => [
      ...Array.from({ length: 3 }, (_, index) => ({
        customer_id: `${customerPrefix}-r${(step + index) % 9}`,
        amount_minor: 100 + ((step * 37 + index * 11) % 900),
        currency: recent,
        status: index === 0 ? 'pending' : 'paid',
      })),
      ...Array.from({ length: 2 }, (_, index) => ({
        customer_id: `${customerPrefix}-o${(step + index) % 6}`,
        amount_minor: 500,
        currency: older,
        status: 'paid',
        created_at: olderTime((step + index) % 6, step, index),
      })),
    ],
  });
}

/** Backends of the warehouse waiting on a lock, with the statement that waits. */
async function lockWaiters(): Promise<{ wait: string; query: string }[]> {
  const rows = await warehouse.raw<{ rows: { wait: string; query: string }[] }>(
    `SELECT wait_event AS wait, left(query, 120) AS query FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows.rows;
}

afterAll(async () => {
  await Promise.all([...running].map(killHard));
  await resetPipeline(warehouse, createKafka(config, pipeline, silentLogger), pipeline);
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

describe('one pipeline in several stream processes', () => {
  it('ends exact with a consumer added and one killed -9 mid-load, and no partition waits on another', async () => {
    const first = startStreamProcess();
    startStreamProcess();
    await waitFor(
      'the pipeline to pin its first positions',
      async () =>
        (await warehouse('ops.consumer_offsets').where({ group_id: pipeline }).first()) ??
        undefined,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await new Promise((resolve) => setTimeout(resolve, 8_000));

    let loading = true;
    const waits: { wait: string; query: string }[] = [];
    const sampling = (async () => {
      while (loading) {
        waits.push(...(await lockWaiters()));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const traffic = writeTraffic(() => !loading);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    startStreamProcess();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await killHard(first);
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    loading = false;
    const written = await traffic;
    await sampling;
    expect(written).toBeGreaterThan(200);

    const run = { currencies: [recent], customerPrefix };
    let last = { windows: [] as string[], sessions: [] as string[] };
    const matched = await waitFor(
      'provisional values to equal the source table',
      async () => {
        const windows = await orderValueDifferences(source, warehouse, pipeline, run);
        const sessions = differencesOf(
          'customer_sessions',
          await provisionalSessions(warehouse, pipeline, customerPrefix),
          await sessionsFromSource(source, customerPrefix),
        );
        last = { windows: windows.differences, sessions };
        return windows.differences.length === 0 && sessions.length === 0 ? windows : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${JSON.stringify(last, null, 2)}`);
    });
    expect(matched.windows).toBeGreaterThan(0);
    const sessions = await sessionsFromSource(source, customerPrefix);
    // Older customers have sessions on both sides of the 35-minute gap, or one bridging it.
    expect(sessions.size).toBeGreaterThan(9 + 6);

    // Waits on the changelog's extension lock are not between partitions' rows; a partition's
    // stored position is waited for only by its next owner, while the last owner's batch ends.
    const betweenPartitions = waits.filter(
      (waiting) => waiting.wait !== 'extend' && !/ops\.consumer_offsets/.test(waiting.query),
    );
    expect(betweenPartitions).toEqual([]);
  }, 240_000);
});
