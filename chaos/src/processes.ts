import { REPO_ROOT } from '@tidemark/cli';
import { waitFor } from '@tidemark/runtime';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** `tidemark stream` or `tidemark worker` as operators run it, killed and restarted at will. */
export class PlatformProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly command: 'stream' | 'worker',
    /** Where it serves /readyz (TIDEMARK_METRICS_PORT or TIDEMARK_WORKER_METRICS_PORT). */
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts it and waits until /readyz answers 200 (joined its group, or polling). */
  async start(timeoutMs = 120_000): Promise<void> {
    const portVariable =
      this.command === 'stream' ? 'TIDEMARK_METRICS_PORT' : 'TIDEMARK_WORKER_METRICS_PORT';
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'services/cli/bin/tidemark.js'), this.command],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          ...this.env,
          [portVariable]: String(this.port),
          TIDEMARK_LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    this.child = child;
    await this.ready(timeoutMs);
  }

  async ready(timeoutMs: number): Promise<void> {
    await waitFor(
      `tidemark ${this.command} to be ready on :${this.port}`,
      async () => {
        if (this.child?.exitCode !== null) {
          throw new Error(`tidemark ${this.command} exited with ${this.child?.exitCode}`);
        }
        const response = await fetch(`http://127.0.0.1:${this.port}/readyz`).catch(() => undefined);
        return response?.status === 200 || undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** SIGKILL, as a crash: no batch committed, no group left. Resolves once it has exited. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM, and waits until it has stopped. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}

/** A TCP port nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
