// The stream's operators, pure, for the packages that must agree with them (the batch layer's
// reconciliation replays the late ledger with them): accumulators, contributions, windows and
// sessions, exactly as the stream applies them.

export {
  accumulate,
  aggregateSql,
  compareMeasures,
  emptyAccumulator,
  mergeAccumulator,
  resultOf,
  type Accumulator,
  type MeasureValue,
} from './accumulator';
export {
  conditionSql,
  contributionOf,
  eventTimeOf,
  measureSql,
  type Contribution,
} from './contribution';
export { windowsFor, windowStartsSql, type FixedWindowSpec, type TimeWindow } from './windows';
export {
  sessionAccumulator,
  sessionsOf,
  sessionsSql,
  type Session,
  type SessionEntry,
} from './sessions';
export type { Bind } from './sql-bind';
export { LATE_REASONS, type LateReason } from './plan';
export { ACCUMULATOR_SQL_TWINS, createSqlTwin, type SqlTwin } from './accumulator-sql';
