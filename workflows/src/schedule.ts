import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Config } from '@tidemark/runtime';

/** The id of the nightly consolidation's Schedule. */
export const NIGHTLY_SCHEDULE_ID = 'tidemark-nightly-consolidation';

/**
 * The nightly Schedule's options from the configuration. The choices, each configurable:
 * - fires once a day at `at` in `timeZone` (Temporal applies daylight saving time), after the
 *   previous UTC day plus its allowed lateness is over;
 * - catch-up window (3 days by default): runs missed while Temporal was down are still taken
 *   when it comes back, each for its own day (the workflow reads its scheduled time); anything
 *   older is a backfill's job;
 * - overlap BUFFER_ALL by default: every day must be consolidated, so a run that fires while the
 *   previous one still waits for completeness is queued, never skipped, and runs after it (one
 *   at a time, so the warehouse's load stays bounded);
 * - a failed run does not pause the Schedule: the next day must still run; failures alert
 *   through the workflow's status (DAY_INCOMPLETE, QUALITY_GATE_FAILED).
 */
export function nightlyScheduleOptions(
  config: Pick<Config, 'nightly' | 'temporal'>,
): ScheduleOptions {
  const [hour, minute] = config.nightly.at.split(':').map(Number) as [number, number];
  return {
    scheduleId: NIGHTLY_SCHEDULE_ID,
    spec: {
      calendars: [{ hour, minute, comment: `daily at ${config.nightly.at}` }],
      timezone: config.nightly.timeZone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'nightlyConsolidationWorkflow',
      workflowId: 'tidemark-nightly',
      taskQueue: config.temporal.taskQueue,
      args: [{}],
    },
    policies: {
      overlap: config.nightly.overlap,
      catchupWindow: config.nightly.catchupWindow,
      pauseOnFailure: false,
    },
  };
}

/** Creates the nightly Schedule, or updates it to the configuration; says which. */
export async function applyNightlySchedule(
  client: Client,
  config: Pick<Config, 'nightly' | 'temporal'>,
): Promise<'created' | 'updated'> {
  const options = nightlyScheduleOptions(config);
  const handle = client.schedule.getHandle(options.scheduleId);
  try {
    await handle.describe();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    await client.schedule.create(options);
    return 'created';
  }
  await handle.update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: { ...previous.policies, ...options.policies },
  }));
  return 'updated';
}

/** The nightly Schedule as Temporal describes it, or null when it does not exist. */
export async function describeNightlySchedule(client: Client): Promise<ScheduleDescription | null> {
  try {
    return await client.schedule.getHandle(NIGHTLY_SCHEDULE_ID).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return null;
    throw error;
  }
}
