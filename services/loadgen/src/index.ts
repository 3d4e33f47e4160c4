export { changesOf, toTransactions } from './batch';
export type { PlannedTransaction, Statement } from './batch';
export { orderEventRow, paymentEventRow } from './event-rows';
export {
  assertNoProblems,
  DEFAULT_CURRENCIES,
  DEFAULT_DURATION_MS,
  DEFAULT_PLAN_OPTIONS,
  MIX_KEYS,
  planOptionProblems,
  resolvePlanOptions,
  runOptionProblems,
} from './options';
export type {
  LoadMix,
  LoadOptions,
  LoadPlanOptions,
  LoadRunOptions,
  OptionLabels,
  ResolvedPlanOptions,
} from './options';
export { makeOrder, seededRandom, writeOrders } from './orders';
export type { DemoOrder } from './orders';
export { LoadPlan, OPERATION_KINDS, POISON_REASONS, seededUuids } from './plan';
export type {
  EventTiming,
  LoadOperation,
  OperationKind,
  OrderChange,
  OrderPatch,
  OrderRow,
  PaymentRow,
  PoisonReason,
} from './plan';
export { runLoad } from './runner';
export type { LoadHooks, LoadProgress, LoadReport, LoadStopReason } from './runner';
