import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { METRICS } from '@tidemark/contracts';
import { createDatabase, loadConfig, waitFor } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPipeline, type TestPipeline } from '../../../test/integration/pipeline';
import { connectTestEnvironment, runConsolidationWorker } from '../testing/consolidation-worker';
import { nightlyScheduleOptions } from '../schedule';
import { dayBefore } from './nightly';

// The nightly Schedule on the real Temporal dev server: a Schedule built from the configuration
// (its own id and task queue here), triggered, starts nightlyConsolidationWorkflow, which
// consolidates the UTC day before the action's scheduled time as a child with the day's id.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 4);
const sourceReader = createDatabase(config.sourceReader, 2);
const tag = randomUUID().slice(0, 8);
const taskQueue = `nightly-int-${tag}`;
const scheduleId = `nightly-int-${tag}`;
let env: TestWorkflowEnvironment;
let pipeline: TestPipeline;
let stopWorker: () => Promise<void>;
/** The longest allowed lateness: the day before is complete that long after midnight (UTC). */
const LATENESS_MS = Math.max(...METRICS.map((metric) => metric.allowedLatenessMs));

beforeAll(async () => {
  env = await connectTestEnvironment(config.temporal);
  // A pipeline whose watermark passes the end of yesterday (kept moving by the heartbeat).
  pipeline = await startTestPipeline({ config, warehouse, name: `nightly-int-${tag}` });
  await waitFor(
    "the test pipeline's watermarks",
    async () => {
      const rows = await warehouse('stream.watermarks').where({ pipeline: pipeline.name });
      return rows.length > 0 && rows.every((row) => row.watermark !== null) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  stopWorker = await runConsolidationWorker({
    connection: env.nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue,
    dependencies: {
      warehouse,
      source: sourceReader,
      pipeline: pipeline.name,
      // Only what holds on any shared stack: this test is about the Schedule, not the gate.
      expectations: [{ kind: 'reconciliation_drift', maxUnexplained: 0, severity: 'WARN' }],
    },
  });
});

afterAll(async () => {
  await env?.client.schedule
    .getHandle(scheduleId)
    .delete()
    .catch(() => undefined);
  await stopWorker?.();
  await pipeline?.stopAndReset();
  await env?.teardown();
  await Promise.all([warehouse.destroy(), sourceReader.destroy()]);
});

describe('the nightly Schedule', () => {
  it(
    'consolidates the day before its scheduled time when triggered',
    async () => {
      const options = nightlyScheduleOptions({
        temporal: { ...config.temporal, taskQueue },
        nightly: {
          at: '02:30',
          timeZone: 'Europe/Paris',
          catchupWindow: '1d',
          overlap: 'BUFFER_ALL',
        },
      });
      const handle = await env.client.schedule.create({
        ...options,
        scheduleId,
        action: { ...options.action, workflowId: `nightly-int-${tag}` },
        state: { paused: true, note: 'integration test: fired by trigger only' },
      });
      const described = await handle.describe();
      expect(described.spec.timezone).toBe('Europe/Paris');
      expect(described.policies.overlap).toBe('BUFFER_ALL');
      expect(described.policies.catchupWindow).toBe(24 * 60 * 60 * 1000);

      // Just after midnight the day before is not complete yet: wait for its lateness to pass
      // rather than for the consolidation's completeness timeout.
      const sinceMidnight = Date.now() % (24 * 60 * 60 * 1000);
      if (sinceMidnight < LATENESS_MS + 15_000) await sleep(LATENESS_MS + 15_000 - sinceMidnight);
      const triggeredAt = new Date();
      await handle.trigger();
      const action = await waitFor(
        'the triggered run',
        async () => (await handle.describe()).info.recentActions[0],
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      const result = await env.client.workflow
        .getHandle(action.action.workflow.workflowId)
        .result();
      const day = dayBefore(triggeredAt);
      expect(result.day).toBe(day);
      expect(result.runId.startsWith(`consolidate-${day}/`)).toBe(true);
      const run = await warehouse('final.runs').where({ run_id: result.runId }).first();
      expect(run.status).toBe('published');
      expect(run.reason).toMatch(/^nightly consolidation \(scheduled \d{4}-/);
    },
    120_000 + LATENESS_MS + 15_000,
  );
});
