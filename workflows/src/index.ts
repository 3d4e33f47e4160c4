export { createActivities } from './activities/landed-changes';
export type { Activities, LandedChangeSummary } from './activities/landed-changes';
export { createTemporalClient } from './client';
export { installTemporalRuntime } from './runtime';
export { createTidemarkWorker } from './worker';
export { traceChangeWorkflow } from './workflows/trace-change';
export type { TraceChangeInput } from './workflows/trace-change';
export { conditionSql, finalMetricSql, tableStateSql } from './consolidation/final-metric-sql';
export type { ConsolidationRange, SqlStatement } from './consolidation/final-metric-sql';
