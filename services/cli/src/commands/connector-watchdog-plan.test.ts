import type { ConnectorStatus } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import {
  failuresOf,
  WATCHDOG_START,
  watchdogStep,
  type WatchdogPolicy,
  type WatchdogState,
} from './connector-watchdog-plan';

const policy: WatchdogPolicy = { firstPauseMs: 10, maxPauseMs: 50, stableAfterMs: 100 };
const failed: ConnectorStatus = {
  name: 'tidemark-shop',
  state: 'RUNNING',
  tasks: [
    {
      id: 0,
      state: 'FAILED',
      trace:
        "io.debezium.DebeziumException: Couldn't obtain encoding for database source\n\tat ...",
    },
  ],
};
const running: ConnectorStatus = {
  name: 'tidemark-shop',
  state: 'RUNNING',
  tasks: [{ id: 0, state: 'RUNNING' }],
};

/** Runs statuses through the watchdog, one a millisecond-tick apart; returns when it restarted. */
function restartsAt(statuses: [number, ConnectorStatus | undefined][]): number[] {
  let state: WatchdogState = WATCHDOG_START;
  const at: number[] = [];
  for (const [nowMs, status] of statuses) {
    const step = watchdogStep(status, state, nowMs, policy);
    if (step.restart) at.push(nowMs);
    state = step.state;
  }
  return at;
}

describe('the connector watchdog', () => {
  it('names what failed, by the first line of its trace', () => {
    expect(failuresOf(failed)).toEqual([
      "task 0: io.debezium.DebeziumException: Couldn't obtain encoding for database source",
    ]);
    expect(failuresOf({ ...failed, state: 'FAILED', tasks: [] })).toEqual(['connector']);
    expect(failuresOf(running)).toEqual([]);
    expect(failuresOf(undefined)).toEqual([]);
  });

  it('restarts a failure at once, then after pauses that double up to the limit', () => {
    const ticks = Array.from({ length: 200 }, (_, ms) => [ms, failed] as [number, ConnectorStatus]);
    expect(restartsAt(ticks)).toEqual([0, 10, 30, 70, 120, 170]);
  });

  it('leaves a running or unregistered connector alone', () => {
    expect(
      restartsAt([
        [0, running],
        [50, undefined],
        [100, { ...running, state: 'PAUSED' }],
      ]),
    ).toEqual([]);
  });

  it('starts counting again only once the connector has run stably', () => {
    // Fails, restarted at 0; runs briefly and fails again at 20: the pause has grown (20 ms).
    expect(
      restartsAt([
        [0, failed],
        [5, running],
        [20, failed],
        [30, failed],
        [40, failed],
      ]),
    ).toEqual([0, 20, 40]);
    // Runs for longer than stableAfterMs: the next failure is restarted at once again.
    expect(
      restartsAt([
        [0, failed],
        [1, failed],
        [10, failed],
        [20, running],
        [130, running],
        [131, failed],
      ]),
    ).toEqual([0, 10, 131]);
  });
});
