import { createDatabase, loadConfig, waitFor, type Config } from '@tidemark/runtime';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
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
    // As infra/stack.sh up does for the native stack: until it serves, not just until it runs.
    await waitServing(service, loadConfig());
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

/** Waits until a started service serves: PostgreSQL answers a query, the others their port. */
async function waitServing(service: StackService, config: Config): Promise<void> {
  if (service === 'postgres') {
    // A server still recovering from its WAL accepts connections but refuses queries.
    const source = createDatabase(config.source, 1);
    try {
      await waitFor(
        'PostgreSQL to answer again',
        async () => (await source.raw('select 1')) && true,
        {
          timeoutMs: 120_000,
          intervalMs: 500,
        },
      );
    } finally {
      await source.destroy();
    }
    return;
  }
  const address = {
    kafka: config.kafka.brokers[0] as string,
    connect: new URL(config.connect.url).host,
    temporal: config.temporal.address,
  }[service];
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  await waitFor(`${service} to listen on ${address} again`, () => tcpAnswers(host, port), {
    timeoutMs: 120_000,
    intervalMs: 500,
  });
}

function tcpAnswers(host: string, port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port, timeout: 2_000 });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered ? true : undefined);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
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
