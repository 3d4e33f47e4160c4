import { migrateAll, registerShopConnector, REPO_ROOT, runStackScript } from '@tidemark/cli';
import { createDatabase, loadConfig, waitFor } from '@tidemark/runtime';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment } from 'testcontainers';

/** Where the integration tests' services come from. */
export type StackKind = 'docker' | 'native';

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
  return async () => {
    await compose?.down();
  };
}

/** A service of the stack the fault tests kill: its compose service, or its native process. */
export type StackService = 'postgres' | 'kafka' | 'connect' | 'temporal';

/**
 * Kills a service of the stack with SIGKILL, as a crash would (PostgreSQL recovers from its WAL
 * when it starts again; Kafka Connect loses the Debezium offsets it had not flushed, so it sends
 * those changes again), then starts it again and waits until it serves: for Kafka Connect,
 * until the Debezium connector and its task run again.
 */
export async function killAndRestart(kind: StackKind, service: StackService): Promise<void> {
  if (kind === 'docker') {
    const container = execFileSync(
      'docker',
      ['ps', '-q', '--filter', `label=com.docker.compose.service=${service}`],
      { encoding: 'utf8' },
    ).trim();
    if (!container) throw new Error(`no running container of the compose service "${service}"`);
    execFileSync('docker', ['kill', '--signal', 'KILL', container], { stdio: 'ignore' });
    execFileSync('docker', ['start', container], { stdio: 'ignore' });
  } else {
    await killNative(service);
    // PostgreSQL's children leave when they notice their postmaster gone; until they all have,
    // a new postmaster refuses the data directory. infra/stack.sh up starts what is not running.
    await waitFor(
      `infra/stack.sh up to start ${service} again`,
      async () => (await runStackScript('up')) === 0 || undefined,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  }
  if (service === 'connect') await registerShopConnector(loadConfig());
}

/** Kills a service of the native stack with SIGKILL and waits until it is gone. */
async function killNative(service: StackService): Promise<void> {
  const stateDir = process.env.TIDEMARK_STATE_DIR ?? '/var/tmp/tidemark';
  if (service === 'postgres') {
    // The postmaster alone, as a crash of the server process would leave its backends.
    const pid = Number(
      readFileSync(`${stateDir}/postgres/data/postmaster.pid`, 'utf8').split('\n')[0],
    );
    process.kill(pid, 'SIGKILL');
    await waitGone(service, pid);
    return;
  }
  const pid = Number(readFileSync(`${stateDir}/run/${service}.pid`, 'utf8').trim());
  // infra/ starts each service in its own process group (setsid): kill all of it.
  process.kill(-pid, 'SIGKILL');
  await waitGone(service, pid);
}

async function waitGone(service: StackService, pid: number): Promise<void> {
  await waitFor(`${service} to die`, async () => !isAlive(pid) || undefined, {
    timeoutMs: 10_000,
    intervalMs: 50,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
