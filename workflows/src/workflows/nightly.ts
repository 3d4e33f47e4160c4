import { defineSearchAttributeKey } from '@temporalio/common';
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ConsolidateDayResult } from './consolidate-day';
import { consolidateDayWorkflow } from './consolidate-day';

/** Set by Temporal on every workflow a Schedule starts: the action's nominal time. */
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

const DAY_MS = 24 * 60 * 60 * 1000;

export interface NightlyInput {
  /** How long the day may wait for the stream to complete it before the run fails (ms). */
  completenessTimeoutMs?: number;
}

/** The workflow id of a day's consolidation outside backfills: one at a time per day. */
export function consolidationWorkflowId(day: string): string {
  return `consolidate-${day}`;
}

/** The UTC day before an instant: the day a nightly run at that instant consolidates. */
export function dayBefore(instant: Date): string {
  return new Date(instant.getTime() - DAY_MS).toISOString().slice(0, 10);
}

/**
 * What the nightly Schedule starts: the consolidation of the UTC day before the action's
 * scheduled time (not its actual start, so a run caught up after an outage still takes its own
 * day), as a child with the day's workflow id.
 */
export async function nightlyConsolidationWorkflow(
  input: NightlyInput = {},
): Promise<ConsolidateDayResult> {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime;
  const day = dayBefore(scheduledAt);
  return executeChild(consolidateDayWorkflow, {
    workflowId: consolidationWorkflowId(day),
    args: [
      {
        day,
        reason: `nightly consolidation (scheduled ${scheduledAt.toISOString()})`,
        completenessTimeoutMs: input.completenessTimeoutMs,
      },
    ],
  });
}
