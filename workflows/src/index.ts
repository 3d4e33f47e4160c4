export { createActivities } from './activities/landed-changes';
export type { Activities, LandedChangeSummary } from './activities/landed-changes';
export { createTemporalClient } from './client';
export { installTemporalRuntime } from './runtime';
export { createTidemarkWorker } from './worker';
export {
  backfillDayWorkflowId,
  backfillProgressQuery,
  backfillWorkflow,
  cancelBackfillSignal,
  CONSOLIDATION_FAILURES,
  consolidateDayWorkflow,
  consolidationWorkflowId,
  dayBefore,
  nightlyConsolidationWorkflow,
  pauseBackfillSignal,
  resumeBackfillSignal,
  traceChangeWorkflow,
} from './workflows/index';
export type {
  BackfillInput,
  ConsolidateDayInput,
  ConsolidateDayResult,
  NightlyInput,
} from './workflows/index';
export {
  BackfillInputError,
  dayAt,
  dayCount,
  finishedDays,
  isDay,
  MAX_BACKFILL_DAYS,
  progressBar,
  validateBackfillRequest,
} from './workflows/backfill-plan';
export type {
  BackfillFailure,
  BackfillProgress,
  BackfillReport,
  BackfillRequest,
  BackfillStatus,
} from './workflows/backfill-plan';
export {
  applyNightlySchedule,
  describeNightlySchedule,
  NIGHTLY_SCHEDULE_ID,
  nightlyScheduleOptions,
} from './schedule';
export { createConsolidationActivities, dayRange, selectMetrics } from './activities/consolidation';
export type {
  ConsolidationActivities,
  ConsolidationRun,
  QualityOutcome,
  ReconciliationCounts,
} from './activities/consolidation';
export { RECONCILIATION_CAUSES } from './consolidation/reconcile';
export type { ReconciliationCause } from './consolidation/reconcile';
export type { TraceChangeInput } from './workflows/trace-change';
export { conditionSql, finalMetricSql, tableStateSql } from './consolidation/final-metric-sql';
export type { ConsolidationRange, SqlStatement } from './consolidation/final-metric-sql';
export { createPlatformMetrics } from './observability/platform-metrics';
export type { ConnectorHealth, PlatformHealth } from './observability/platform-metrics';
export { readFinalHealth, readSlotHealth } from './observability/platform-health';
export type { FinalHealth, SlotHealth } from './observability/platform-health';
