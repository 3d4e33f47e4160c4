import { ConnectClient, type ConnectorStatus, type Logger } from '@tidemark/runtime';
import {
  DEFAULT_WATCHDOG_POLICY,
  WATCHDOG_START,
  watchdogStep,
  type WatchdogPolicy,
  type WatchdogState,
} from './connector-watchdog-plan';

export interface ConnectorWatchdog {
  /** Failed tasks seen at the last check, and the restarts made so far. */
  observed(): { status: ConnectorStatus | undefined; restarts: number };
  stop(): Promise<void>;
}

/**
 * Checks a connector every `intervalMs` and restarts what has FAILED, as `watchdogStep` decides
 * (the worker runs one for the Debezium connector). An unreachable Kafka Connect is only logged.
 */
export function startConnectorWatchdog(options: {
  connectUrl: string;
  connector: string;
  logger: Logger;
  intervalMs?: number;
  policy?: WatchdogPolicy;
  now?: () => number;
}): ConnectorWatchdog {
  const connect = new ConnectClient(options.connectUrl);
  const now = options.now ?? Date.now;
  let state: WatchdogState = WATCHDOG_START;
  let status: ConnectorStatus | undefined;
  let restarts = 0;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const check = async () => {
    try {
      status = await connect.status(options.connector);
    } catch (error) {
      options.logger.warn('connector watchdog: Kafka Connect did not answer', {
        connector: options.connector,
        error: String(error),
      });
      return;
    }
    const step = watchdogStep(status, state, now(), options.policy ?? DEFAULT_WATCHDOG_POLICY);
    state = step.state;
    if (!step.restart) return;
    options.logger.warn('connector watchdog: restarting what FAILED', {
      connector: options.connector,
      failed: step.failed,
      restart: step.state.restarts,
    });
    try {
      await connect.restartFailed(options.connector);
      restarts += 1;
    } catch (error) {
      options.logger.warn('connector watchdog: the restart failed', { error: String(error) });
    }
  };
  const timer = setInterval(() => {
    if (!stopped) running = running.then(check);
  }, options.intervalMs ?? 10_000);
  running = check();
  return {
    observed: () => ({ status, restarts }),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
