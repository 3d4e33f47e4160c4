// The stream's operators, pure, for the packages that must agree with them (the batch layer's
// reconciliation replays the late ledger with them): accumulators, contributions, windows and
// sessions, exactly as the stream applies them.

export {
  accumulate,
  compareMeasures,
  emptyAccumulator,
  mergeAccumulator,
  resultOf,
  type Accumulator,
  type MeasureValue,
} from './accumulator';
export { contributionOf, eventTimeOf, type Contribution } from './contribution';
export { windowsFor, type TimeWindow } from './windows';
export { sessionAccumulator, sessionsOf, type Session, type SessionEntry } from './sessions';
export { LATE_REASONS, type LateReason } from './plan';
export { ACCUMULATOR_SQL_TWINS, createSqlTwin, type SqlTwin } from './accumulator-sql';
