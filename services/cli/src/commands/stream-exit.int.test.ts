import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import { resetPipeline } from '@tidemark/stream';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type AclEntry,
} from 'kafkajs';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killHard } from '../../../../test/integration/process';
import { REPO_ROOT } from '../paths';

// A `tidemark stream` whose consumer stops for good must not stay up consuming nothing: its
// /readyz fails and the process exits with code 1, for its supervisor to restart it. The real
// cause used here: its Kafka principal loses the right to its consumer group (an ACL denying
// it, as a misconfigured rollout would), an error kafkajs does not retry.

const config = loadConfig();
const source = createDatabase(config.source, 2);
const warehouse = createDatabase(config.warehouse, 2);
const admin = createKafka(config, 'stream-exit-int', silentLogger).admin();
const pipeline = `stream-exit-${randomUUID()}`;
const denyGroup: AclEntry = {
  resourceType: AclResourceTypes.GROUP,
  resourceName: pipeline,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  principal: `User:${config.kafka.principals.stream.username}`,
  host: '*',
  operation: AclOperationTypes.ALL,
  permissionType: AclPermissionTypes.DENY,
};
let child: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function readiness(port: number): Promise<number | 'down'> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
  } catch {
    return 'down';
  }
}

afterAll(async () => {
  if (child && child.exitCode === null) await killHard(child);
  await admin.deleteAcls({ filters: [denyGroup] }).catch(() => undefined);
  await admin.disconnect();
  await resetPipeline(warehouse, createKafka(config, pipeline, silentLogger), pipeline).catch(
    () => undefined,
  );
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

describe('the stream process when its consumer stops for good', () => {
  it('fails /readyz and exits with code 1', async () => {
    await admin.connect();
    const port = await freePort();
    const exited = new Promise<number | null>((resolve) => {
      child = spawn(process.execPath, [join(REPO_ROOT, 'services/cli/bin/tidemark.js'), 'stream'], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          TIDEMARK_STREAM_PIPELINE: pipeline,
          TIDEMARK_STREAM_START: 'latest',
          TIDEMARK_METRICS_PORT: String(port),
          TIDEMARK_LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.once('exit', (code) => resolve(code));
    });
    await waitFor(
      'the stream to be ready',
      async () => (await readiness(port)) === 200 || undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );

    await admin.createAcls({ acl: [denyGroup] });
    // A change for it to apply: committing its offsets, it meets the denial.
    await source('shop.orders').insert({
      customer_id: `stream-exit-${pipeline}`,
      amount_minor: 100,
      currency: 'SXT',
      status: 'paid',
    });
    const states: (number | 'down')[] = [];
    const code = await waitFor(
      'the stream process to exit',
      async () => {
        states.push(await readiness(port));
        return child?.exitCode ?? undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    expect(code).toBe(1);
    expect(await exited).toBe(1);
    // Never ready again once its consumer had crashed: 503 while it stopped, then nothing.
    const afterFirstFailure = states.slice(states.findIndex((state) => state !== 200));
    expect(afterFirstFailure.every((state) => state !== 200)).toBe(true);
  }, 180_000);
});
