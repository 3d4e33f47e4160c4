import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Kills a child process with SIGKILL (no chance to clean up) and waits until it has exited. */
export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Starts `tidemark stream` as its own process for `pipeline` (from the end of the topics, quick
 * to notice a dead consumer, no metrics port), tracked in `running` until it exits.
 */
export function startStreamProcess(
  repoRoot: string,
  pipeline: string,
  running: Set<ChildProcess>,
  logLevel: 'warn' | 'error' = 'warn',
): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'services/cli/bin/tidemark.js'), 'stream'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        TIDEMARK_STREAM_PIPELINE: pipeline,
        TIDEMARK_STREAM_START: 'latest',
        TIDEMARK_STREAM_IDLE_TIMEOUT_MS: '1000',
        TIDEMARK_STREAM_SESSION_TIMEOUT_MS: '6000',
        TIDEMARK_METRICS_PORT: '0',
        TIDEMARK_LOG_LEVEL: logLevel,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}
