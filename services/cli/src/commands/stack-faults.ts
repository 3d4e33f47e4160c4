import { loadConfig, waitFor } from '@tidemark/runtime';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { registerShopConnector } from './connector';
import { runStackScript } from './stack';

// Faults the fault tests and `npm run chaos` inject: a service of the stack killed as a crash
// would kill it, then started again.

/** A service of the stack the fault tests kill: its compose service, or its native process. */
export type StackService = 'postgres' | 'kafka' | 'connect' | 'temporal';

/**
 * Kills a service of the stack with SIGKILL, as a crash would (PostgreSQL recovers from its WAL
 * when it starts again; Kafka Connect loses the Debezium offsets it had not flushed, so it sends
 * those changes again), then starts it again and waits until it serves: for Kafka Connect,
 * until the Debezium connector and its task run again.
 */
export async function killAndRestart(
  kind: 'docker' | 'native',
  service: StackService,
  options: { quiet?: boolean } = {},
): Promise<void> {
  await killService(kind, service);
  await startService(kind, service, options);
}

/** Kills a service of the stack with SIGKILL and waits until it is gone. */
export async function killService(kind: 'docker' | 'native', service: StackService): Promise<void> {
  if (kind === 'docker') {
    execFileSync('docker', ['kill', '--signal', 'KILL', containerOf(service)], { stdio: 'ignore' });
  } else {
    await killNative(service);
  }
}

/** Starts a killed service again and waits until it serves (Kafka Connect: its connector runs). */
export async function startService(
  kind: 'docker' | 'native',
  service: StackService,
  options: { quiet?: boolean } = {},
): Promise<void> {
  if (kind === 'docker') {
    execFileSync('docker', ['start', containerOf(service, { all: true })], { stdio: 'ignore' });
  } else {
    // PostgreSQL's children leave when they notice their postmaster gone; until they all have,
    // a new postmaster refuses the data directory. infra/stack.sh up starts what is not running.
    await waitFor(
      `infra/stack.sh up to start ${service} again`,
      async () => (await runStackScript('up', options)) === 0 || undefined,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  }
  if (service === 'connect') await registerShopConnector(loadConfig());
}

/** The container of a compose service (`all`: stopped ones too). */
function containerOf(service: StackService, options: { all?: boolean } = {}): string {
  const container = execFileSync(
    'docker',
    [
      'ps',
      ...(options.all ? ['-a'] : []),
      '-q',
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ],
    { encoding: 'utf8' },
  ).trim();
  if (!container) throw new Error(`no container of the compose service "${service}"`);
  return container;
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
