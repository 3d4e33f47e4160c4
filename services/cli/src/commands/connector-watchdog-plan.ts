import type { ConnectorStatus } from '@tidemark/runtime';

// When the worker's connector watchdog restarts a FAILED Debezium connector or task. Kafka
// Connect never restarts a failed task by itself, and Debezium fails its task for good when the
// source is still unreachable as the task restarts after a connection loss (a PostgreSQL restart
// or failover longer than ~10 s: "Couldn't obtain encoding for database"), so capture would stop
// until someone restarted it by hand. Like Strimzi's auto-restart: at once, then after a growing
// pause; the count starts again once the connector has run for a while.

export interface WatchdogState {
  /** Restarts since the connector last ran stably. */
  restarts: number;
  /** Not before then (epoch ms); null: a failure would be restarted at once. */
  nextRestartAtMs: number | null;
  /** Since when every task has run (epoch ms); null: not running now. */
  runningSinceMs: number | null;
}

export interface WatchdogPolicy {
  /** The pause after the first restart; each next one doubles it. */
  firstPauseMs: number;
  maxPauseMs: number;
  /** Running this long clears the restart count. */
  stableAfterMs: number;
}

export const DEFAULT_WATCHDOG_POLICY: WatchdogPolicy = {
  firstPauseMs: 10_000,
  maxPauseMs: 300_000,
  stableAfterMs: 120_000,
};

export const WATCHDOG_START: WatchdogState = {
  restarts: 0,
  nextRestartAtMs: null,
  runningSinceMs: null,
};

export type WatchdogStep =
  | { restart: false; state: WatchdogState }
  | { restart: true; state: WatchdogState; failed: string[] };

/** What failed in a status: the connector and each task, with the first line of its trace. */
export function failuresOf(status: ConnectorStatus | undefined): string[] {
  if (!status) return [];
  const failed = status.tasks
    .filter((task) => task.state === 'FAILED')
    .map((task) => `task ${task.id}: ${task.trace?.split('\n')[0] ?? 'no trace'}`);
  return status.state === 'FAILED' ? ['connector', ...failed] : failed;
}

/** The next step given the connector's status now (undefined: not registered or unreachable). */
export function watchdogStep(
  status: ConnectorStatus | undefined,
  state: WatchdogState,
  nowMs: number,
  policy: WatchdogPolicy = DEFAULT_WATCHDOG_POLICY,
): WatchdogStep {
  const failed = failuresOf(status);
  if (failed.length === 0) {
    const running =
      status?.state === 'RUNNING' &&
      status.tasks.length > 0 &&
      status.tasks.every((task) => task.state === 'RUNNING');
    if (!running) return { restart: false, state: { ...state, runningSinceMs: null } };
    const since = state.runningSinceMs ?? nowMs;
    const stable = nowMs - since >= policy.stableAfterMs;
    return {
      restart: false,
      state: stable
        ? { ...WATCHDOG_START, runningSinceMs: since }
        : { ...state, runningSinceMs: since },
    };
  }
  if (state.nextRestartAtMs !== null && nowMs < state.nextRestartAtMs) {
    return { restart: false, state: { ...state, runningSinceMs: null } };
  }
  const pause = Math.min(policy.firstPauseMs * 2 ** state.restarts, policy.maxPauseMs);
  return {
    restart: true,
    failed,
    state: { restarts: state.restarts + 1, nextRestartAtMs: nowMs + pause, runningSinceMs: null },
  };
}
