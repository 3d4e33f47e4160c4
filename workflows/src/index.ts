export { createActivities } from './activities/landed-changes';
export type { Activities, LandedChangeSummary } from './activities/landed-changes';
export { createTemporalClient } from './client';
export { installTemporalRuntime } from './runtime';
export { createTidemarkWorker } from './worker';
export {
  CONSOLIDATION_FAILURES,
  consolidateDayWorkflow,
  traceChangeWorkflow,
} from './workflows/index';
export type { ConsolidateDayInput, ConsolidateDayResult } from './workflows/consolidate-day';
export { createConsolidationActivities, dayRange } from './activities/consolidation';
export type {
  ConsolidationActivities,
  ConsolidationRun,
  QualityOutcome,
} from './activities/consolidation';
export { causeOf, RECONCILIATION_CAUSES } from './consolidation/reconcile';
export type { ReconciliationCause } from './consolidation/reconcile';
export type { TraceChangeInput } from './workflows/trace-change';
export { conditionSql, finalMetricSql, tableStateSql } from './consolidation/final-metric-sql';
export type { ConsolidationRange, SqlStatement } from './consolidation/final-metric-sql';
