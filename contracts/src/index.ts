export {
  CHANGE_OPS,
  DEAD_LETTER_CODES,
  DECODE_ERROR_CODES,
  decodeChange,
  DEFAULT_MAX_MESSAGE_BYTES,
  primaryKeyOf,
} from './debezium/envelope';
export type {
  ChangeEvent,
  ChangeOp,
  ChangeSource,
  DeadLetterCode,
  DecodeError,
  DecodeErrorCode,
  DecodeOptions,
  DecodeResult,
  Row,
} from './debezium/envelope';
export { findUnstorableJson, replaceUnstorable } from './debezium/json-safety';
export { defineEventContract } from './events/contract';
export type { ContractOf, EventContract } from './events/contract';
export { contractVersions, currentContract, EVENT_CONTRACTS } from './events/registry';
export { ORDER_CHANNELS, ORDER_STATUSES, ordersV1, ordersV2 } from './events/shop-orders';
export type { OrderRowV1, OrderRowV2 } from './events/shop-orders';
export { PAYMENT_METHODS, PAYMENT_STATUSES, paymentsV1 } from './events/shop-payments';
export type { PaymentRowV1 } from './events/shop-payments';
export {
  date,
  decimal,
  decimalFromBytes,
  decodeWithConnectSchema,
  fillUnavailableValues,
  json,
  timestamp,
  timestamptz,
  UNAVAILABLE_VALUE_PLACEHOLDER,
  uuid,
} from './debezium/encodings';
export type { ConnectField } from './debezium/encodings';
export {
  customerSessions,
  defineMetric,
  METRICS,
  SHOP_METRICS,
  ordersPerMinute,
  paymentFailureRate,
  revenuePerMinute,
} from './metrics/catalog';
export {
  AGGREGATE_FUNCTIONS,
  FILTER_OPERATORS,
  metricDefinitionSchema,
} from './metrics/definition';
export type {
  Aggregate,
  AggregateFunction,
  Condition,
  EmitPolicy,
  FilterOperator,
  Measure,
  MetricDefinition,
  MetricDefinitionInput,
  WindowSpec,
} from './metrics/definition';
export { MetricDefinitionError, validateMetricDefinition, windowSpan } from './metrics/validate';
export type { MetricProblem } from './metrics/validate';
export { canonicalJson, contractJsonSchema, snapshotPath } from './catalogue/json-schema';
export type { JsonSchemaDocument } from './catalogue/json-schema';
export { renderCatalogue } from './catalogue/markdown';
export { CONTRACT_CHECK_RULES, checkContracts } from './catalogue/check';
export type { ContractCheckRule, ContractFinding } from './catalogue/check';
export {
  breaksMode,
  checkCompatibility,
  checkHistory,
  COMPATIBILITY_MODES,
  parseCompatibilityMode,
  SCHEMA_CHANGE_RULES,
  validateJsonSchema,
} from './compat';
export type {
  CompatibilityMode,
  CompatibilityReport,
  JsonSchema,
  SchemaChange,
  SchemaChangeRule,
  SchemaProblem,
} from './compat';
export { EXPECTATION_SEVERITIES, EXPECTATIONS, expectationName } from './quality/expectations';
export type { Expectation, ExpectationSeverity } from './quality/expectations';
