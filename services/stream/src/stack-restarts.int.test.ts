import { runLoad, type LoadReport } from '@tidemark/loadgen';
import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPipeline, type TestPipeline } from '../../../test/integration/pipeline';
import { waitOrderValuesEqual } from '../../../test/integration/shop-values';
import {
  chooseStack,
  killAndRestart,
  leaveConnectorRunning,
  type StackService,
} from '../../../test/integration/stack';

// The stack's own services killed with SIGKILL under a load, and started again: the Kafka
// broker while the pipeline fetches and Debezium produces, PostgreSQL (the source and the
// warehouse) while the pipeline's batches commit and Debezium streams the WAL. Every change
// must end counted once, and the pipeline must go on by itself: no restart, no lost position.
// (Kafka Connect killed the same way: connector-restart.int.test.ts.)

const config = loadConfig();
const stack = chooseStack();
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );

interface Fault {
  service: StackService;
  /** When it strikes: during the load, or just after it while the pipeline still catches up. */
  at: 'mid-load' | 'after-load';
  ratePerSec: number;
  durationMs: number;
}

const faults: Fault[] = [
  { service: 'kafka', at: 'mid-load', ratePerSec: 500, durationMs: 12_000 },
  // The load writes to the same server, so it must be over before the kill; at this rate the
  // pipeline and Debezium are still behind it when the server dies.
  { service: 'postgres', at: 'after-load', ratePerSec: 2_500, durationMs: 6_000 },
];

describe.each(faults)('$service killed -9 $at and started again', (fault) => {
  const source = createDatabase(config.source, 4);
  const warehouse = createDatabase(config.warehouse, 4);
  const pipeline = `${fault.service}-restart-${randomUUID()}`;
  const run = { currencies: [letters(), letters()], customerPrefix: pipeline };
  let started: TestPipeline | undefined;
  let report: LoadReport;
  let killedAt = 0;
  let appliedAfterKill = 0;

  beforeAll(async () => {
    started = await startTestPipeline({
      config,
      warehouse,
      name: pipeline,
      onBatch: (stats) => {
        if (killedAt > 0) appliedAfterKill += stats.applied;
      },
    });
    const load = runLoad(source, {
      ratePerSec: fault.ratePerSec,
      durationMs: fault.durationMs,
      seed: 20261207,
      ...run,
      customers: 40,
      updates: 0.2,
      deletes: 0.03,
      duplicates: 0,
      pkChanges: 0.01,
      payments: 0.2,
    });
    if (fault.at === 'mid-load') {
      await sleep(fault.durationMs / 3);
      killedAt = Date.now();
      await killAndRestart(stack, fault.service);
      report = await load;
    } else {
      report = await load;
      killedAt = Date.now();
      await killAndRestart(stack, fault.service);
    }
  }, 300_000);

  afterAll(async () => {
    await started?.stopAndReset();
    await Promise.all([source.destroy(), warehouse.destroy()]);
    await leaveConnectorRunning();
  });

  it('ends with every change counted once, by the pipeline that was running', async () => {
    const compared = await waitOrderValuesEqual(source, warehouse, pipeline, run, {
      withLateLedger: true,
      timeoutMs: 180_000,
      intervalMs: 1_000,
    });
    expect(compared.windows).toBeGreaterThan(0);
    expect(report.byKind.update_order).toBeGreaterThan(0);
    // The fault struck while there was still work to do, and the same pipeline did it.
    expect(appliedAfterKill).toBeGreaterThan(0);
    expect(started?.stream.health()).toEqual({ consuming: true });
  }, 240_000);
});
