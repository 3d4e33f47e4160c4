import type { Client } from '@temporalio/client';
import type { Config } from '@tidemark/runtime';
import { TidemarkError } from '@tidemark/runtime';
import {
  applyNightlySchedule,
  describeNightlySchedule,
  NIGHTLY_SCHEDULE_ID,
} from '@tidemark/workflows';

export const SCHEDULE_USAGE = `usage: tidemark schedule apply|status|trigger

The nightly consolidation is a Temporal Schedule (${NIGHTLY_SCHEDULE_ID}) that consolidates the
previous UTC day. Its settings come from the environment:
  TIDEMARK_NIGHTLY_AT=02:30               local time of day it fires (HH:MM)
  TIDEMARK_NIGHTLY_TIMEZONE=UTC           the IANA time zone of that time
  TIDEMARK_NIGHTLY_CATCHUP_WINDOW=3d      runs missed during an outage this recent are still taken
  TIDEMARK_NIGHTLY_OVERLAP=BUFFER_ALL     a run firing while the last one runs waits its turn

apply     create the Schedule, or update it to the settings
status    the Schedule's settings, next runs and recent runs
trigger   start a run now (it consolidates yesterday)`;

/** Runs `tidemark schedule ...`. */
export async function scheduleCommand(
  argv: string[],
  deps: {
    client: Client;
    config: Pick<Config, 'nightly' | 'temporal'>;
    print: (line: string) => void;
  },
): Promise<number> {
  const { client, config, print } = deps;
  const [action, ...rest] = argv;
  if (rest.length > 0 || !['apply', 'status', 'trigger'].includes(action ?? '')) {
    throw new TidemarkError(
      'BAD_INPUT',
      `expected "apply", "status" or "trigger", got ${JSON.stringify(argv.join(' '))}\n\n${SCHEDULE_USAGE}`,
    );
  }
  if (action === 'apply') {
    const outcome = await applyNightlySchedule(client, config);
    print(
      `${outcome} ${NIGHTLY_SCHEDULE_ID}: daily at ${config.nightly.at} ${config.nightly.timeZone}, catch-up window ${config.nightly.catchupWindow}, overlap ${config.nightly.overlap}`,
    );
  }
  const description = await describeNightlySchedule(client);
  if (description === null) {
    print(`${NIGHTLY_SCHEDULE_ID} does not exist: \`tidemark schedule apply\` creates it`);
    return 1;
  }
  if (action === 'trigger') {
    await client.schedule.getHandle(NIGHTLY_SCHEDULE_ID).trigger();
    print(`triggered ${NIGHTLY_SCHEDULE_ID}: a run consolidating yesterday starts now`);
    return 0;
  }
  const calendar = description.spec.calendars?.[0];
  const at = calendar
    ? `${String(calendar.hour[0]?.start ?? 0).padStart(2, '0')}:${String(calendar.minute[0]?.start ?? 0).padStart(2, '0')}`
    : '?';
  print(`schedule:  ${NIGHTLY_SCHEDULE_ID}${description.state.paused ? ' (paused)' : ''}`);
  print(`fires:     daily at ${at} ${description.spec.timezone ?? 'UTC'}`);
  print(
    `policies:  overlap ${description.policies.overlap}, catch-up window ${Math.round(description.policies.catchupWindow / 3_600_000)} h`,
  );
  print(
    `next:      ${description.info.nextActionTimes
      .slice(0, 3)
      .map((time) => time.toISOString())
      .join(', ')}`,
  );
  const recent = description.info.recentActions.slice(-5);
  print(
    `recent:    ${recent.length === 0 ? 'none yet' : recent.map((action) => `${action.scheduledAt.toISOString()} -> ${action.action.workflow.workflowId}`).join('\n           ')}`,
  );
  return 0;
}
