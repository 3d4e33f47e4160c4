export { CHANGE_OPS, DECODE_ERROR_CODES, decodeChange, primaryKeyOf } from './debezium/envelope';
export type {
  ChangeEvent,
  ChangeOp,
  ChangeSource,
  DecodeError,
  DecodeErrorCode,
  DecodeResult,
  Row,
} from './debezium/envelope';
export { defineEventContract } from './events/contract';
export type { CompatibilityMode, EventContract } from './events/contract';
export { currentContract, EVENT_CONTRACTS } from './events/registry';
export { ORDER_STATUSES, ordersV1 } from './events/shop-orders';
export type { OrderRowV1 } from './events/shop-orders';
export { PAYMENT_STATUSES, paymentsV1 } from './events/shop-payments';
export type { PaymentRowV1 } from './events/shop-payments';
