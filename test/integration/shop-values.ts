import { customerSessions } from '@tidemark/contracts';
import { waitFor } from '@tidemark/runtime';
import { readHeldSessions } from '@tidemark/stream';
import type { Knex } from 'knex';

// The shop's per-minute order metrics two ways, for tests that compare them: aggregated straight
// from the source table, and as a pipeline's provisional values.

const MINUTE = 60_000;

/** Values keyed `windowStartMs|currency`. */
export type WindowValues = Map<string, number>;

/**
 * orders_per_minute (orders not cancelled) and revenue_per_minute (neither cancelled nor
 * refunded) over a run's orders (its currencies and customer prefix), less the excluded ids.
 */
export async function orderValuesFromSource(
  source: Knex,
  run: { currencies: readonly string[]; customerPrefix: string },
  excluded: ReadonlySet<string> = new Set(),
): Promise<{ count: WindowValues; revenue: WindowValues }> {
  const rows = (await source('shop.orders')
    .whereIn('currency', [...run.currencies])
    .whereLike('customer_id', `${run.customerPrefix}%`)
    // Event time truncated to milliseconds by PostgreSQL, as the stream and the final SQL see it.
    .select(
      'id',
      'currency',
      'amount_minor',
      'status',
      source.raw("date_trunc('milliseconds', created_at) AS created_at"),
    )) as {
    id: string;
    currency: string;
    amount_minor: string;
    status: string;
    created_at: Date;
  }[];
  const count: WindowValues = new Map();
  const revenue: WindowValues = new Map();
  for (const row of rows) {
    if (excluded.has(row.id)) continue;
    const key = `${Math.floor(row.created_at.getTime() / MINUTE) * MINUTE}|${row.currency}`;
    if (row.status !== 'cancelled') count.set(key, (count.get(key) ?? 0) + 1);
    if (row.status !== 'cancelled' && row.status !== 'refunded') {
      revenue.set(key, (revenue.get(key) ?? 0) + Number(row.amount_minor));
    }
  }
  return { count, revenue };
}

/** A pipeline's emitted, non-zero values of a per-currency metric for the given currencies. */
export async function provisionalValues(
  warehouse: Knex,
  pipeline: string,
  metric: string,
  currencies: readonly string[],
): Promise<WindowValues> {
  const rows = await warehouse('provisional.metric_values')
    .where({ pipeline, metric, pending: false })
    .whereIn(
      'group_key',
      currencies.map((currency) => JSON.stringify([currency])),
    )
    .select('window_start', 'group_key', 'value');
  return new Map(
    rows
      .filter((row) => row.value !== null && Number(row.value) !== 0)
      .map((row) => [
        `${new Date(row.window_start).getTime()}|${JSON.parse(row.group_key)[0]}`,
        Number(row.value),
      ]),
  );
}

/** The keys whose provisional value is not the source's, as `metric key: provisional vs source`. */
export function differencesOf(
  metric: string,
  provisional: WindowValues,
  source: WindowValues,
): string[] {
  const keys = new Set([...provisional.keys(), ...source.keys()]);
  return [...keys]
    .filter((key) => provisional.get(key) !== source.get(key))
    .map((key) => `${metric} ${key}: ${provisional.get(key)} vs ${source.get(key)}`);
}

/**
 * What a pipeline's late ledger holds for the given currencies, per order metric and window: the
 * signed counts (orders_per_minute) or amounts (revenue_per_minute) of the contributions that
 * came after their window closed, which provisional values leave out by design; and how many
 * changes it records.
 */
export async function lateLedgerValues(
  warehouse: Knex,
  pipeline: string,
  currencies: readonly string[],
): Promise<{ values: Map<string, WindowValues>; changes: number }> {
  const rows = (await warehouse('ops.late_events')
    .where({ pipeline })
    .whereIn('metric', ['orders_per_minute', 'revenue_per_minute'])
    .whereIn(
      'group_key',
      currencies.map((currency) => JSON.stringify([currency])),
    )
    .select('metric', 'window_start', 'key_values', 'sign', 'measure', 'primary_key', 'lsn')) as {
    metric: string;
    window_start: Date;
    key_values: string[];
    sign: number;
    measure: number | null;
    primary_key: unknown;
    lsn: string;
  }[];
  const values = new Map<string, WindowValues>();
  const changes = new Set<string>();
  for (const row of rows) {
    const byWindow = values.get(row.metric) ?? new Map<string, number>();
    const key = `${row.window_start.getTime()}|${row.key_values[0]}`;
    const amount = row.metric === 'orders_per_minute' ? 1 : Number(row.measure);
    byWindow.set(key, (byWindow.get(key) ?? 0) + Number(row.sign) * amount);
    values.set(row.metric, byWindow);
    changes.add(`${JSON.stringify(row.primary_key)}@${row.lsn}`);
  }
  return { values, changes: changes.size };
}

/** Values with the late ledger's contributions added, zero windows left out. */
export function withLate(provisional: WindowValues, late: WindowValues | undefined): WindowValues {
  const sum = new Map(provisional);
  for (const [key, value] of late ?? []) sum.set(key, (sum.get(key) ?? 0) + value);
  return new Map([...sum].filter(([, value]) => value !== 0));
}

/**
 * Every difference between a pipeline's order metrics and the source's, none when equal. With
 * `withLateLedger`, the provisional values count the late ledger's contributions too: what a
 * fault test checks is that no change was lost or counted twice, and a load's event-time moves
 * may land a change in a window already closed (`changed_after_close`).
 */
export async function orderValueDifferences(
  source: Knex,
  warehouse: Knex,
  pipeline: string,
  run: { currencies: readonly string[]; customerPrefix: string },
  excluded: ReadonlySet<string> = new Set(),
  options: { withLateLedger?: boolean } = {},
): Promise<{ differences: string[]; windows: number }> {
  const expected = await orderValuesFromSource(source, run, excluded);
  const ledger = options.withLateLedger
    ? await lateLedgerValues(warehouse, pipeline, run.currencies)
    : { values: new Map<string, WindowValues>() };
  const [count, revenue] = await Promise.all(
    ['orders_per_minute', 'revenue_per_minute'].map(async (metric) =>
      withLate(
        await provisionalValues(warehouse, pipeline, metric, run.currencies),
        ledger.values.get(metric),
      ),
    ),
  );
  return {
    differences: [
      ...differencesOf('orders_per_minute', count!, expected.count),
      ...differencesOf('revenue_per_minute', revenue!, expected.revenue),
    ],
    windows: expected.count.size,
  };
}

/**
 * Waits until a run's provisional values equal the source's (see `orderValueDifferences`), and
 * returns the comparison; on timeout, fails naming the first differences and `context()`.
 */
export async function waitOrderValuesEqual(
  source: Knex,
  warehouse: Knex,
  pipeline: string,
  run: { currencies: readonly string[]; customerPrefix: string },
  options: {
    excluded?: ReadonlySet<string>;
    withLateLedger?: boolean;
    timeoutMs?: number;
    intervalMs?: number;
    context?: () => string;
  } = {},
): Promise<{ differences: string[]; windows: number }> {
  const { excluded = new Set(), withLateLedger = false } = options;
  let differences: string[] = [];
  return waitFor(
    'provisional values to equal the source table',
    async () => {
      const compared = await orderValueDifferences(source, warehouse, pipeline, run, excluded, {
        withLateLedger,
      });
      differences = compared.differences;
      return differences.length === 0 ? compared : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 90_000, intervalMs: options.intervalMs ?? 500 },
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}\ndifferences (metric window|currency: provisional vs source):\n` +
        `${differences.slice(0, 20).join('\n')}${options.context ? `\n${options.context()}` : ''}`,
    );
  });
}

/** Sessions keyed `customer|startMs|endMs`, valued by their order count. */
export type SessionValues = Map<string, number>;

const SESSION_GAP = 30 * MINUTE;

/**
 * customer_sessions over a run's customers straight from the source table: each customer's
 * orders in event-time order, a new session wherever two are the gap apart or more; a session
 * ends one gap after its last order.
 */
export async function sessionsFromSource(source: Knex, customerPrefix: string) {
  const rows = (await source('shop.orders')
    .whereLike('customer_id', `${customerPrefix}%`)
    .orderBy(['customer_id', 'created_at'])
    .select('customer_id', source.raw("date_trunc('milliseconds', created_at) AS created_at"))) as {
    customer_id: string;
    created_at: Date;
  }[];
  const sessions: SessionValues = new Map();
  let open: { customer: string; startMs: number; lastMs: number; orders: number } | undefined;
  const close = () => {
    if (open) {
      sessions.set(`${open.customer}|${open.startMs}|${open.lastMs + SESSION_GAP}`, open.orders);
    }
  };
  for (const row of rows) {
    const at = row.created_at.getTime();
    if (open && open.customer === row.customer_id && at - open.lastMs < SESSION_GAP) {
      open.lastMs = at;
      open.orders += 1;
    } else {
      close();
      open = { customer: row.customer_id, startMs: at, lastMs: at, orders: 1 };
    }
  }
  close();
  return sessions;
}

/**
 * A pipeline's customer_sessions values for a run's customers, by the orders they hold: its rows,
 * and the open sessions still held in their keys' state (their rows are written when due).
 */
export async function provisionalSessions(
  warehouse: Knex,
  pipeline: string,
  customerPrefix: string,
): Promise<SessionValues> {
  const rows = (await warehouse('provisional.metric_values')
    .where({ pipeline, metric: 'customer_sessions' })
    .whereLike('group_key', `["${customerPrefix}%`)
    .select('group_key', 'window_start', 'window_end', 'accumulator')) as {
    group_key: string;
    window_start: Date;
    window_end: Date;
    accumulator: { rows: number };
  }[];
  const held = await readHeldSessions(warehouse, pipeline, [customerSessions], {
    groupKeyPrefix: `["${customerPrefix}`,
  });
  return new Map(
    [
      ...rows,
      ...held.map((session) => ({
        group_key: session.groupKey,
        window_start: session.windowStart,
        window_end: session.windowEnd,
        accumulator: session.accumulator,
      })),
    ]
      .filter((row) => row.accumulator.rows !== 0)
      .map((row) => [
        `${JSON.parse(row.group_key)[0]}|${row.window_start.getTime()}|${row.window_end.getTime()}`,
        row.accumulator.rows,
      ]),
  );
}
