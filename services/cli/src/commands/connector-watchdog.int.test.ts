import {
  ConnectClient,
  createDatabase,
  loadConfig,
  silentLogger,
  waitFor,
} from '@tidemark/runtime';
import { readSlotHealth } from '@tidemark/workflows';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseStack } from '../../../../test/integration/stack';
import { SHOP_CONNECTOR_NAME } from '../paths';
import { startConnectorWatchdog, type ConnectorWatchdog } from './connector-watchdog';
import { killService, startService } from './stack-faults';

// PostgreSQL down for longer than Debezium's own retry: its task restarts, cannot reach the
// source and FAILS for good ("Couldn't obtain encoding for database"). Kafka Connect leaves it
// so; the worker's watchdog restarts it once the source is back.

const config = loadConfig();
const connect = new ConnectClient(config.connect.url);
const stack = chooseStack();
let watchdog: ConnectorWatchdog | undefined;

const taskState = async () => (await connect.status(SHOP_CONNECTOR_NAME))?.tasks[0]?.state;

afterAll(async () => {
  await watchdog?.stop();
  // Whatever happened, leave the source up and the connector running for the next tests.
  await startService(stack, 'postgres', { quiet: true });
  await connect.restartFailed(SHOP_CONNECTOR_NAME);
  await connect.waitUntilRunning(SHOP_CONNECTOR_NAME, 90_000).catch(() => undefined);
});

describe('the connector watchdog', () => {
  it('restarts the Debezium task that failed while PostgreSQL was away', async () => {
    await connect.waitUntilRunning(SHOP_CONNECTOR_NAME, 90_000);
    await killService(stack, 'postgres');
    await waitFor(
      "Debezium's task to fail for good",
      async () => ((await taskState()) === 'FAILED' ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    await startService(stack, 'postgres', { quiet: true });
    // With the source back, Kafka Connect leaves the task FAILED.
    await sleep(5_000);
    expect(await taskState()).toBe('FAILED');

    watchdog = startConnectorWatchdog({
      connectUrl: config.connect.url,
      connector: SHOP_CONNECTOR_NAME,
      logger: silentLogger,
      intervalMs: 1_000,
    });
    // (A restart that raced the source's recovery fails again; the next comes 10 s later.)
    await waitFor(
      "Debezium's task to run again",
      async () => ((await taskState()) === 'RUNNING' ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(watchdog.observed().restarts).toBeGreaterThanOrEqual(1);
    // And Debezium streams from its slot again.
    const sourceReader = createDatabase(config.sourceReader, 1);
    try {
      await waitFor(
        'the replication slot to be streamed from',
        async () =>
          (await readSlotHealth(sourceReader)).some(
            (slot) => slot.slot === 'tidemark_shop' && slot.active,
          ) || undefined,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      await sourceReader.destroy();
    }
  }, 300_000);
});
