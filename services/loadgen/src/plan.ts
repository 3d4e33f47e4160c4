import { ORDER_STATUSES, type PAYMENT_METHODS } from '@tidemark/contracts';
import { IndexedSet } from './indexed-set';
import { resolvePlanOptions, type LoadPlanOptions, type ResolvedPlanOptions } from './options';
import { seededRandom } from './orders';

export const OPERATION_KINDS = [
  'insert_order',
  'insert_payment',
  'update_order',
  'duplicate_update',
  'delete_order',
  'change_order_id',
] as const;

export type OperationKind = (typeof OPERATION_KINDS)[number];

/** When a row's event time (created_at) lies relative to the moment it is written. */
export type EventTiming = 'on_time' | 'out_of_order' | 'late';

/** How a poison row breaks its contract while the database accepts it. */
export const POISON_REASONS = [
  'currency_not_iso',
  'negative_amount',
  'unknown_status',
  'unknown_method',
] as const;

export type PoisonReason = (typeof POISON_REASONS)[number];

/** A shop.orders row exactly as the load writes it. */
export interface OrderRow {
  id: string;
  customer_id: string;
  amount_minor: number;
  currency: string;
  status: string;
  channel: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A shop.payments row exactly as the load writes it. */
export interface PaymentRow {
  id: string;
  order_id: string;
  amount_minor: number;
  currency: string;
  method: string;
  status: string;
  fee: string | null;
  settled_on: string | null;
  gateway_response: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns an order update sets. */
export type OrderPatch = Partial<
  Pick<OrderRow, 'status' | 'amount_minor' | 'created_at' | 'updated_at'>
>;

/** What an update of an order changes in the domain. */
export type OrderChange = 'status' | 'amount' | 'event_time';

/**
 * One business operation on the source database. `orderKey` identifies the order across
 * primary-key changes (the runner keeps every operation of one order on one connection, in order);
 * `before`/`after` are the full row images, as Debezium will carry them.
 */
export type LoadOperation =
  | {
      kind: 'insert_order';
      orderKey: number;
      row: OrderRow;
      timing: EventTiming;
      poison: PoisonReason | null;
    }
  | {
      kind: 'insert_payment';
      orderKey: number;
      row: PaymentRow;
      timing: EventTiming;
      poison: PoisonReason | null;
    }
  | {
      kind: 'update_order';
      orderKey: number;
      change: OrderChange;
      set: OrderPatch;
      before: OrderRow;
      after: OrderRow;
    }
  | {
      /** The same UPDATE run twice: the first changes `before` to `after`, the retry `after` to `after`. */
      kind: 'duplicate_update';
      orderKey: number;
      set: OrderPatch;
      before: OrderRow;
      after: OrderRow;
    }
  | { kind: 'delete_order'; orderKey: number; before: OrderRow; payments: number }
  | { kind: 'change_order_id'; orderKey: number; before: OrderRow; after: OrderRow };

type OrderStatus = (typeof ORDER_STATUSES)[number];

interface TrackedOrder {
  row: OrderRow;
  payments: number;
}

const CHANNEL_WEIGHTS = [
  ['web', 0.55],
  ['app', 0.33],
  ['store', 0.1],
  // Writers that predate the channel column (contract v2 allows null).
  [null, 0.02],
] as const;

const PAYMENT_METHOD_WEIGHTS = [
  ['card', 0.7],
  ['wallet', 0.2],
  ['bank_transfer', 0.1],
] as const satisfies readonly (readonly [(typeof PAYMENT_METHODS)[number], number])[];

const STATUS_TRANSITIONS: Record<OrderStatus, readonly (readonly [OrderStatus, number])[]> = {
  pending: [
    ['paid', 0.8],
    ['cancelled', 0.2],
  ],
  paid: [
    ['shipped', 0.85],
    ['refunded', 0.15],
  ],
  shipped: [['refunded', 1]],
  cancelled: [],
  refunded: [],
};

// Shipped orders are rarely touched again (a late refund), pending and paid ones often.
const STATUS_UPDATE_WEIGHTS: readonly (readonly [OrderStatus, number])[] = [
  ['pending', 1],
  ['paid', 1],
  ['shipped', 0.1],
];

const PAYABLE_STATUSES: readonly (readonly [OrderStatus, number])[] = [
  ['pending', 1],
  ['paid', 1],
];

const DECLINES = [
  ['05', 'do_not_honor'],
  ['51', 'insufficient_funds'],
  ['54', 'expired_card'],
  ['59', 'suspected_fraud'],
] as const;

/**
 * A deterministic stream of source-database operations: from a seed and options, `next(now)`
 * returns the next operation, targeting only orders that exist at that point of the plan. The plan
 * is its own model of the tables, so the runner never reads ids back.
 */
export class LoadPlan {
  readonly options: ResolvedPlanOptions;
  private readonly random: () => number;
  private readonly newId: () => string;
  private readonly orders = new Map<number, TrackedOrder>();
  private readonly live = new IndexedSet();
  private readonly withoutPayments = new IndexedSet();
  private readonly byStatus = new Map<OrderStatus, IndexedSet>(
    ORDER_STATUSES.map((status) => [status, new IndexedSet()]),
  );
  // Keys in insertion order, to forget the oldest orders beyond maxTrackedOrders.
  private arrival: number[] = [];
  private arrivalHead = 0;
  private nextOrderKey = 0;
  private readonly mix: readonly (readonly [MixKind, number])[];
  private readonly currencyWeights: readonly (readonly [string, number])[];

  constructor(options: LoadPlanOptions = {}) {
    this.options = resolvePlanOptions(options);
    this.random = seededRandom(this.options.seed);
    // A separate stream for ids, so the choices do not depend on which id source is used.
    this.newId = this.options.newId ?? seededUuids(this.options.seed ^ 0x5bd1e995);
    this.mix = [
      ['poison', this.options.poison],
      ['payment', this.options.payments],
      ['update', this.options.updates],
      ['delete', this.options.deletes],
      ['duplicate', this.options.duplicates],
      ['pk_change', this.options.pkChanges],
    ];
    // The first currency is the most frequent: weights 1, 1/2, 1/3...
    this.currencyWeights = this.options.currencies.map((code, index) => [code, 1 / (index + 1)]);
  }

  /** Orders the plan currently knows and may target. */
  get trackedOrders(): number {
    return this.live.size;
  }

  /** The current image of every order the plan tracks (its model of shop.orders). */
  *trackedOrderRows(): IterableIterator<OrderRow> {
    for (const order of this.orders.values()) yield order.row;
  }

  /** The next operation; `nowMs` is the wall-clock time it will be written at. */
  next(nowMs: number): LoadOperation {
    const draw = this.random();
    let cumulative = 0;
    for (const [kind, share] of this.mix) {
      cumulative += share;
      if (draw < cumulative) return this.plan(kind, nowMs) ?? this.insertOrder(nowMs);
    }
    return this.insertOrder(nowMs);
  }

  private plan(kind: MixKind, nowMs: number): LoadOperation | undefined {
    switch (kind) {
      case 'poison':
        return this.poison(nowMs);
      case 'payment':
        return this.insertPayment(nowMs);
      case 'update':
        return this.updateOrder(nowMs);
      case 'delete':
        return this.deleteOrder();
      case 'duplicate':
        return this.duplicateUpdate(nowMs);
      case 'pk_change':
        return this.changeOrderId();
    }
  }

  private insertOrder(nowMs: number, timing: EventTiming = this.timing()): LoadOperation {
    // Late orders come from store tills that sync after being offline.
    const channel = timing === 'late' ? 'store' : this.pickWeighted(CHANNEL_WEIGHTS);
    const row: OrderRow = {
      id: this.newId(),
      customer_id: this.customer(),
      amount_minor: this.amount(),
      currency: this.pickWeighted(this.currencyWeights),
      // Store sales are paid at the till; online orders wait for their payment.
      status: channel === 'store' || this.random() < 0.1 ? 'paid' : 'pending',
      channel,
      created_at: new Date(this.eventTime(timing, nowMs)),
      updated_at: new Date(nowMs),
    };
    const orderKey = this.nextOrderKey++;
    this.track(orderKey, { row, payments: 0 });
    return { kind: 'insert_order', orderKey, row, timing, poison: null };
  }

  private insertPayment(
    nowMs: number,
    timing: EventTiming = this.timing(),
  ): LoadOperation | undefined {
    const orderKey = this.pickOrder(PAYABLE_STATUSES);
    if (orderKey === undefined) return undefined;
    const order = this.tracked(orderKey);
    const method = this.pickWeighted(PAYMENT_METHOD_WEIGHTS);
    const failed = this.random() < this.options.paymentFailures;
    const status = failed ? 'failed' : this.random() < 0.75 ? 'captured' : 'authorized';
    const row: PaymentRow = {
      id: this.newId(),
      order_id: order.row.id,
      amount_minor: order.row.amount_minor,
      currency: order.row.currency,
      method,
      status,
      // The gateway reports its fee on capture; settlement (settled_on) arrives days later.
      fee: status === 'captured' ? gatewayFee(method, order.row.amount_minor) : null,
      settled_on: null,
      gateway_response: this.gatewayResponse(failed),
      created_at: new Date(this.eventTime(timing, nowMs)),
      updated_at: new Date(nowMs),
    };
    order.payments += 1;
    this.withoutPayments.delete(orderKey);
    return { kind: 'insert_payment', orderKey, row, timing, poison: null };
  }

  private updateOrder(nowMs: number): LoadOperation | undefined {
    const draw = this.random();
    const change: OrderChange =
      draw < this.options.eventTimeMoves
        ? 'event_time'
        : draw < this.options.eventTimeMoves + this.options.amountCorrections
          ? 'amount'
          : 'status';
    const orderKey =
      change === 'event_time'
        ? this.pickAny()
        : this.pickOrder(change === 'amount' ? PAYABLE_STATUSES : STATUS_UPDATE_WEIGHTS);
    if (orderKey === undefined) return undefined;
    const order = this.tracked(orderKey);
    const before = order.row;
    const updatedAt = new Date(nowMs);
    let set: OrderPatch;
    if (change === 'status') {
      set = { status: this.nextStatus(before.status as OrderStatus), updated_at: updatedAt };
    } else if (change === 'amount') {
      // A coupon applied after checkout, or a line added or removed by customer service.
      const corrected = Math.max(
        100,
        Math.round(before.amount_minor * (0.8 + 0.35 * this.random())),
      );
      set = {
        amount_minor: corrected === before.amount_minor ? corrected + 100 : corrected,
        updated_at: updatedAt,
      };
    } else {
      // The application corrects when the order was placed: its contribution moves windows.
      const movedBy = 30_000 + Math.floor(this.random() * 120_000);
      set = { created_at: new Date(before.created_at.getTime() - movedBy), updated_at: updatedAt };
    }
    const after = this.apply(orderKey, set);
    return { kind: 'update_order', orderKey, change, set, before, after };
  }

  private duplicateUpdate(nowMs: number): LoadOperation | undefined {
    const orderKey = this.pickOrder(STATUS_UPDATE_WEIGHTS);
    if (orderKey === undefined) return undefined;
    const before = this.tracked(orderKey).row;
    const set: OrderPatch = {
      status: this.nextStatus(before.status as OrderStatus),
      updated_at: new Date(nowMs),
    };
    const after = this.apply(orderKey, set);
    return { kind: 'duplicate_update', orderKey, set, before, after };
  }

  private deleteOrder(): LoadOperation | undefined {
    const orderKey = this.pickAny();
    if (orderKey === undefined) return undefined;
    const order = this.tracked(orderKey);
    this.untrack(orderKey);
    return { kind: 'delete_order', orderKey, before: order.row, payments: order.payments };
  }

  private changeOrderId(): LoadOperation | undefined {
    // Payments reference orders without ON UPDATE CASCADE: only orders without payments can move.
    if (this.withoutPayments.size === 0) return undefined;
    const orderKey = this.withoutPayments.at(Math.floor(this.random() * this.withoutPayments.size));
    const order = this.tracked(orderKey);
    const before = order.row;
    const after = { ...before, id: this.newId() };
    order.row = after;
    return { kind: 'change_order_id', orderKey, before, after };
  }

  private poison(nowMs: number): LoadOperation {
    if (this.random() < 0.3) {
      const payment = this.insertPayment(nowMs, 'on_time');
      if (payment?.kind === 'insert_payment') {
        const reason = this.pick([
          'currency_not_iso',
          'negative_amount',
          'unknown_method',
        ] as const);
        const row = { ...payment.row };
        if (reason === 'currency_not_iso') row.currency = row.currency.toLowerCase();
        if (reason === 'negative_amount') row.amount_minor = -row.amount_minor;
        if (reason === 'unknown_method') row.method = 'crypto';
        // The order is no longer targeted: a later delete would cascade the poison row again.
        this.untrack(payment.orderKey);
        return { ...payment, row, poison: reason };
      }
    }
    const order = this.insertOrder(nowMs, 'on_time');
    if (order.kind !== 'insert_order') return order;
    const reason = this.pick(['currency_not_iso', 'negative_amount', 'unknown_status'] as const);
    const row = { ...order.row };
    if (reason === 'currency_not_iso') row.currency = 'euro';
    if (reason === 'negative_amount') row.amount_minor = -row.amount_minor;
    if (reason === 'unknown_status') row.status = 'on_hold';
    // A poison order is never targeted again, so each poison row makes exactly one bad change.
    this.untrack(order.orderKey);
    return { ...order, row, poison: reason };
  }

  private timing(): EventTiming {
    const draw = this.random();
    if (draw < this.options.late) return 'late';
    if (draw < this.options.late + this.options.outOfOrder) return 'out_of_order';
    return 'on_time';
  }

  private eventTime(timing: EventTiming, nowMs: number): number {
    if (timing === 'late') return nowMs - this.options.lateByMs;
    if (timing === 'out_of_order') {
      return nowMs - Math.floor(this.random() * (this.options.outOfOrderMaxMs + 1));
    }
    return nowMs;
  }

  private customer(): string {
    // Squaring skews towards low numbers: a few regulars place many of the orders.
    const draw = this.random();
    return `${this.options.customerPrefix}-${Math.floor(draw * draw * this.options.customers)}`;
  }

  private amount(): number {
    // Log-normal basket values around 35.00, mostly priced at .99, between 1.00 and 5,000.00.
    const gaussian =
      Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    const major = Math.min(5000, Math.max(1, Math.round(Math.exp(Math.log(35) + 0.9 * gaussian))));
    return this.random() < 0.7 ? major * 100 - 1 : major * 100;
  }

  private gatewayResponse(failed: boolean): Record<string, unknown> {
    if (failed) {
      const [code, reason] = this.pick(DECLINES);
      return { approved: false, code, reason };
    }
    const authCode = Math.floor(this.random() * 0xffffff)
      .toString(16)
      .toUpperCase()
      .padStart(6, '0');
    return { approved: true, code: '00', auth_code: authCode };
  }

  private nextStatus(status: OrderStatus): OrderStatus {
    return this.pickWeighted(STATUS_TRANSITIONS[status]);
  }

  private apply(orderKey: number, set: OrderPatch): OrderRow {
    const order = this.tracked(orderKey);
    const before = order.row;
    const after = { ...before, ...set };
    order.row = after;
    if (after.status !== before.status) {
      this.byStatus.get(before.status as OrderStatus)?.delete(orderKey);
      this.byStatus.get(after.status as OrderStatus)?.add(orderKey);
    }
    return after;
  }

  private tracked(orderKey: number): TrackedOrder {
    const order = this.orders.get(orderKey);
    if (!order) throw new Error(`order key ${orderKey} is not tracked`);
    return order;
  }

  private track(orderKey: number, order: TrackedOrder): void {
    this.orders.set(orderKey, order);
    this.live.add(orderKey);
    this.byStatus.get(order.row.status as OrderStatus)?.add(orderKey);
    if (order.payments === 0) this.withoutPayments.add(orderKey);
    this.arrival.push(orderKey);
    while (this.live.size > this.options.maxTrackedOrders) {
      const oldest = this.arrival[this.arrivalHead++];
      if (oldest !== undefined) this.untrack(oldest);
    }
    if (this.arrivalHead > 65_536 && this.arrivalHead * 2 > this.arrival.length) {
      this.arrival = this.arrival.slice(this.arrivalHead);
      this.arrivalHead = 0;
    }
  }

  private untrack(orderKey: number): void {
    const order = this.orders.get(orderKey);
    if (!order) return;
    this.orders.delete(orderKey);
    this.live.delete(orderKey);
    this.withoutPayments.delete(orderKey);
    this.byStatus.get(order.row.status as OrderStatus)?.delete(orderKey);
  }

  private pickAny(): number | undefined {
    if (this.live.size === 0) return undefined;
    return this.live.at(Math.floor(this.random() * this.live.size));
  }

  /** A tracked order among the given statuses, each status weighted by its number of orders. */
  private pickOrder(statuses: readonly (readonly [OrderStatus, number])[]): number | undefined {
    const candidates = statuses.map(
      ([status, weight]) => [this.byStatus.get(status) as IndexedSet, weight] as const,
    );
    const total = candidates.reduce((sum, [set, weight]) => sum + set.size * weight, 0);
    if (total === 0) return undefined;
    let draw = this.random() * total;
    for (const [set, weight] of candidates) {
      const span = set.size * weight;
      if (draw < span) return set.at(Math.min(set.size - 1, Math.floor(draw / weight)));
      draw -= span;
    }
    const last = candidates.findLast(([set]) => set.size > 0)?.[0];
    return last?.at(last.size - 1);
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)] as T;
  }

  private pickWeighted<T>(weighted: readonly (readonly [T, number])[]): T {
    const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
    let draw = this.random() * total;
    for (const [value, weight] of weighted) {
      if (draw < weight) return value;
      draw -= weight;
    }
    return (weighted[weighted.length - 1] as readonly [T, number])[0];
  }
}

type MixKind = 'poison' | 'payment' | 'update' | 'delete' | 'duplicate' | 'pk_change';

/** The gateway's fee in major units with four decimals, as numeric(12,4) stores it. */
function gatewayFee(method: string, amountMinor: number): string {
  const feeMinor =
    method === 'card' ? amountMinor * 0.014 + 25 : method === 'wallet' ? amountMinor * 0.019 : 35;
  return (feeMinor / 100).toFixed(4);
}

/** Version-4 uuids from a seed, so a plan is reproducible down to its primary keys. */
export function seededUuids(seed: number): () => string {
  const random = seededRandom(seed);
  return () => {
    const bytes = new Uint8Array(16);
    for (let word = 0; word < 4; word += 1) {
      const value = Math.floor(random() * 0x1_0000_0000);
      for (let shift = 0; shift < 4; shift += 1)
        bytes[word * 4 + shift] = (value >>> (shift * 8)) & 0xff;
    }
    bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
