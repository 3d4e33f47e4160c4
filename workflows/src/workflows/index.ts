// The workflow bundle's entry point: every workflow the tidemark worker runs.
export { CONSOLIDATION_FAILURES, consolidateDayWorkflow } from './consolidate-day';
export type { ConsolidateDayInput, ConsolidateDayResult } from './consolidate-day';
export { traceChangeWorkflow } from './trace-change';
export type { TraceChangeInput } from './trace-change';
