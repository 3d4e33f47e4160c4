import { Context } from '@temporalio/activity';

/** How often a running activity tells Temporal its worker is alive. */
export const HEARTBEAT_INTERVAL_MS = 5_000;

type AnyActivity = (...args: never[]) => Promise<unknown>;

/**
 * The same activities, each heartbeating while it runs. A consolidation's SQL may run for
 * minutes; with heartbeats Temporal notices a dead worker within the heartbeat timeout and runs
 * the activity again elsewhere, instead of waiting for the whole start-to-close timeout.
 * Called outside an activity (a test calling it directly), a function runs as it is.
 */
export function withHeartbeats<Activities extends Record<string, AnyActivity>>(
  activities: Activities,
  intervalMs = HEARTBEAT_INTERVAL_MS,
): Activities {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (...args: never[]) => {
        let context: Context | undefined;
        try {
          context = Context.current();
        } catch {
          return activity(...args);
        }
        const timer = setInterval(() => context.heartbeat(), intervalMs);
        try {
          return await activity(...args);
        } finally {
          clearInterval(timer);
        }
      },
    ]),
  ) as Activities;
}
