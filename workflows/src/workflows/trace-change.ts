import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, LandedChangeSummary } from '../activities/landed-changes';

const { findLandedChanges } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

export interface TraceChangeInput {
  table: string;
  primaryKey: Record<string, unknown>;
}

/** Reads back from the warehouse what the pipeline landed for one source row. */
export async function traceChangeWorkflow(input: TraceChangeInput): Promise<LandedChangeSummary[]> {
  const changes = await findLandedChanges(input);
  if (changes.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `no change of ${input.table} ${JSON.stringify(input.primaryKey)} has landed`,
      'ChangeNotLanded',
    );
  }
  return changes;
}
