import {
  migrateAll,
  registerShopConnector,
  REPO_ROOT,
  runStackScript,
  SHOP_CONNECTOR_NAME,
} from '@tidemark/cli';
import { ConnectClient, createDatabase, loadConfig, waitFor } from '@tidemark/runtime';
import { execFileSync } from 'node:child_process';
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment } from 'testcontainers';

/** Where the integration tests' services come from. */
export type StackKind = 'docker' | 'native';

export { killAndRestart, type StackService } from '@tidemark/cli';

/**
 * One switch decides: TIDEMARK_STACK=docker|native, or by default Docker (Testcontainers with
 * docker-compose.yml) when a Docker engine answers, else the native stack from infra/.
 */
export function chooseStack(env: Record<string, string | undefined> = process.env): StackKind {
  const wanted = env.TIDEMARK_STACK ?? 'auto';
  if (wanted === 'docker' || wanted === 'native') return wanted;
  if (wanted !== 'auto')
    throw new Error(`TIDEMARK_STACK must be docker, native or auto, not "${wanted}"`);
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return 'docker';
  } catch {
    return 'native';
  }
}

/** Starts the chosen stack (a no-op for a native stack already up), migrates, registers Debezium. */
export async function startStack(kind: StackKind): Promise<() => Promise<void>> {
  let compose: StartedDockerComposeEnvironment | undefined;
  if (kind === 'docker') {
    // Passwords set in the environment win; the development file fills in the others.
    compose = await new DockerComposeEnvironment(REPO_ROOT, 'docker-compose.yml')
      .withEnvironmentFile('infra/dev-credentials.env')
      .up();
    // Inside the compose network, Connect reaches PostgreSQL by its service name.
    process.env.TIDEMARK_CONNECT_DB_HOST = 'postgres';
  } else {
    const code = await runStackScript('up');
    if (code !== 0) throw new Error(`infra/stack.sh up exited with ${code}; see its output above`);
  }
  const stop = async () => {
    await compose?.down();
  };
  try {
    await prepareStack();
  } catch (error) {
    // Containers left running would hold the ports the next run needs.
    await stop();
    throw error;
  }
  return stop;
}

/** Migrates the warehouse and registers Debezium once PostgreSQL answers. */
async function prepareStack(): Promise<void> {
  const config = loadConfig();
  const probe = createDatabase(config.source, 1);
  await waitFor(
    'PostgreSQL to accept connections',
    async () => (await probe.raw('select 1')) && true,
    {
      timeoutMs: 120_000,
    },
  );
  await probe.destroy();
  await migrateAll(config);
  await registerShopConnector(config);
}

/**
 * For a test that stopped a service Debezium depends on: its task may have FAILED for good
 * meanwhile (PostgreSQL back while it retried), which the worker's connector watchdog repairs
 * in production; the next tests need it streaming.
 */
export async function leaveConnectorRunning(): Promise<void> {
  const connect = new ConnectClient(loadConfig().connect.url);
  await connect.restartFailed(SHOP_CONNECTOR_NAME);
  await connect.waitUntilRunning(SHOP_CONNECTOR_NAME, 90_000);
}
