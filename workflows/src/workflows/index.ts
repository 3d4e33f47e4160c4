// The workflow bundle's entry point: every workflow the tidemark worker runs.
export {
  backfillDayWorkflowId,
  backfillProgressQuery,
  backfillWorkflow,
  cancelBackfillSignal,
  pauseBackfillSignal,
  resumeBackfillSignal,
} from './backfill';
export type { BackfillInput } from './backfill';
export { CONSOLIDATION_FAILURES, consolidateDayWorkflow } from './consolidate-day';
export type { ConsolidateDayInput, ConsolidateDayResult } from './consolidate-day';
export { consolidationWorkflowId, dayBefore, nightlyConsolidationWorkflow } from './nightly';
export type { NightlyInput } from './nightly';
export { traceChangeWorkflow } from './trace-change';
export type { TraceChangeInput } from './trace-change';
