import type { Knex } from 'knex';

/**
 * A synthetic day of source changes written straight into the raw changelog, shaped exactly as
 * the stream lands them (envelope columns, decoded `before`/`after` rows, Debezium's ISO event
 * times): orders and payments inserted through the day, some inserted late (event time before
 * the commit), updated (status and amount, some moving their event time), deleted; a few
 * updates and deletes commit after the day's cutoff, as they do in real life.
 */
export interface BenchDayPlan {
  /** The UTC day, yyyy-mm-dd: one nothing else uses (far future), as its partitions are dropped. */
  day: string;
  /** Changes of the day in total: 60 % orders, 40 % payments. */
  changes: number;
  /** Distinct customers of the day's orders. */
  customers: number;
  topicPrefix: string;
}

/** The changes written, per table and operation. */
export interface BenchDayCounts {
  changes: number;
  orders: { c: number; u: number; d: number };
  payments: { c: number; u: number; d: number };
}

// Shares of rows that change after their insert, by the row's index (deterministic, no random
// generator in SQL): orders i % 5 in (0, 1) updated and i % 20 in (0, 3) deleted, so an order
// makes 1.5 changes; payments j % 15 in 0..3 updated and j % 15 = 7 deleted, 4/3 changes.
const ORDER_CHANGES_PER_ROW = 1.5;
const PAYMENT_CHANGES_PER_ROW = 4 / 3;

/** Rows of each table giving about `changes` changes in total. */
export function rowsForChanges(changes: number): { orders: number; payments: number } {
  return {
    orders: Math.max(1, Math.round((changes * 0.6) / ORDER_CHANGES_PER_ROW)),
    payments: Math.max(1, Math.round((changes * 0.4) / PAYMENT_CHANGES_PER_ROW)),
  };
}

/** The day after a yyyy-mm-dd day. */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

// Debezium's ZonedTimestamp as the stream lands it: 2030-01-15T06:53:24.177000Z.
const ISO = (ts: string) => `to_char(${ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

// The envelope every landed change carries; LSNs grow with the commit time (a row's changes
// commit seconds apart, so its history is ordered), the hops after the commit take milliseconds.
const ENVELOPE = (table: string, contractVersion: number) => `
  SELECT '${table}', op, jsonb_build_object('id', id), lsn, lsn / 64, committed_at,
         committed_at + interval '80 ms', before, after, ${contractVersion},
         :prefix || '.${table}', (hashtext(id) & 2147483647) % 3, n, committed_at + interval '130 ms',
         committed_at + interval '250 ms'
    FROM changes`;

const COLUMNS = `(source_table, op, primary_key, lsn, tx_id, committed_at, captured_at, before,
  after, contract_version, kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, landed_at)`;

const LSN = `(10000000000000 + extract(epoch FROM committed_at - :start::timestamptz) * 1000000)::bigint * 4`;

const ORDERS_SQL = `
  INSERT INTO raw.change_events ${COLUMNS}
  WITH base AS (
    SELECT i, md5('tidemark-bench-order:' || :day || ':' || i)::uuid::text AS id,
           'bench-customer-' || ((i * 7919) % :customers) AS customer_id,
           (ARRAY['EUR','EUR','EUR','USD','USD','GBP','SEK'])[1 + (i * 13) % 7] AS currency,
           CASE WHEN i % 11 = 0 THEN NULL ELSE (ARRAY['web','app','store'])[1 + i % 3] END AS channel,
           500 + (i * 37) % 20000 AS amount_minor,
           CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'pending' END AS status,
           date_trunc('milliseconds', :start::timestamptz
             + ((i - 0.5) * 86400.0 / :orders) * interval '1 second') AS placed_at
      FROM generate_series(1::bigint, :orders) AS i
  ), inserted AS (
    SELECT *,
           -- One order in twenty arrives late: its event time is minutes before its commit.
           placed_at - CASE WHEN i % 20 = 7 THEN (60 + (i * 31) % 1140) * interval '1 second'
                            ELSE interval '0' END AS created_at,
           placed_at + interval '9 ms' AS committed_at
      FROM base
  ), updated AS (
    SELECT i, id, customer_id, currency, channel,
           CASE WHEN i % 5 = 1 THEN amount_minor + 100 + (i % 7) * 10 ELSE amount_minor END
             AS amount_minor,
           CASE WHEN i % 5 = 1 THEN status WHEN i % 15 = 0 THEN 'cancelled'
                WHEN i % 10 = 5 THEN 'refunded' ELSE 'paid' END AS status,
           -- Some corrections move the order's event time a few minutes back.
           created_at - CASE WHEN i % 25 = 1 THEN (120 + (i * 7) % 600) * interval '1 second'
                             ELSE interval '0' END AS created_at,
           committed_at + (30 + (i * 13) % 3570) * interval '1 second' AS committed_at,
           created_at AS inserted_created_at, committed_at AS inserted_committed_at,
           amount_minor AS inserted_amount, status AS inserted_status
      FROM inserted
     WHERE i % 5 IN (0, 1)
  ), versions AS (
    SELECT i, id, 'c' AS op, NULL::jsonb AS before,
           jsonb_build_object('id', id, 'status', status, 'channel', channel, 'currency', currency,
             'created_at', ${ISO('created_at')}, 'updated_at', ${ISO('committed_at')},
             'customer_id', customer_id, 'amount_minor', amount_minor) AS after,
           committed_at
      FROM inserted
    UNION ALL
    SELECT i, id, 'u',
           jsonb_build_object('id', id, 'status', inserted_status, 'channel', channel,
             'currency', currency, 'created_at', ${ISO('inserted_created_at')},
             'updated_at', ${ISO('inserted_committed_at')}, 'customer_id', customer_id,
             'amount_minor', inserted_amount),
           jsonb_build_object('id', id, 'status', status, 'channel', channel, 'currency', currency,
             'created_at', ${ISO('created_at')}, 'updated_at', ${ISO('committed_at')},
             'customer_id', customer_id, 'amount_minor', amount_minor),
           committed_at
      FROM updated
  ), changes AS (
    SELECT v.op, v.id, v.before, v.after, v.committed_at, ${LSN} AS lsn,
           row_number() OVER () AS n
      FROM versions v
    UNION ALL
    -- Deletes carry the row's last version as before.
    SELECT 'd', last.id, last.after, NULL, last.committed_at + interval '60 seconds',
           (10000000000000 + extract(epoch FROM last.committed_at + interval '60 seconds'
              - :start::timestamptz) * 1000000)::bigint * 4 + 1,
           :orders * 2 + last.i
      FROM (SELECT DISTINCT ON (i) * FROM versions ORDER BY i, committed_at DESC) last
     WHERE last.i % 20 IN (0, 3)
  )
  ${ENVELOPE('shop.orders', 2)}`;

const PAYMENTS_SQL = `
  INSERT INTO raw.change_events ${COLUMNS}
  WITH base AS (
    SELECT j, md5('tidemark-bench-payment:' || :day || ':' || j)::uuid::text AS id,
           -- Payments go to orders that are never deleted, spread over the day.
           CASE WHEN o % 20 IN (0, 3) THEN o - 1 ELSE o END AS o
      FROM generate_series(1::bigint, :payments) AS j,
           LATERAL (SELECT 1 + ((j - 1)::bigint * :orders / :payments) AS o) AS ordered
  ), attempted AS (
    SELECT j, id,
           md5('tidemark-bench-order:' || :day || ':' || o)::uuid::text AS order_id,
           (ARRAY['EUR','EUR','EUR','USD','USD','GBP','SEK'])[1 + (o * 13) % 7] AS currency,
           500 + (o * 37) % 20000 AS amount_minor,
           (ARRAY['card','card','card','card','card','card','bank_transfer','bank_transfer',
                  'wallet','wallet'])[1 + (j * 3) % 10] AS method,
           CASE WHEN j % 15 BETWEEN 0 AND 3 THEN 'authorized' WHEN j % 17 = 0 THEN 'failed'
                ELSE 'captured' END AS status,
           date_trunc('milliseconds', :start::timestamptz
             + ((o - 0.5) * 86400.0 / :orders + 5 + j % 60) * interval '1 second') AS created_at
      FROM base
  ), inserted AS (
    SELECT *,
           -- One payment in twenty-five is committed minutes after its event time.
           created_at + CASE WHEN j % 25 = 4 THEN (60 + j % 840) * interval '1 second'
                             ELSE interval '9 ms' END AS committed_at
      FROM attempted
  ), rows AS (
    SELECT j, id, 'c' AS op, committed_at, status, NULL::text AS settled_on, order_id, currency,
           amount_minor, method, created_at
      FROM inserted
    UNION ALL
    SELECT j, id, 'u', committed_at + (10 + j % 590) * interval '1 second',
           CASE WHEN j % 4 = 0 THEN 'failed' ELSE 'captured' END,
           CASE WHEN j % 4 = 0 THEN NULL ELSE :day END, order_id, currency, amount_minor, method,
           created_at
      FROM inserted
     WHERE j % 15 BETWEEN 0 AND 3
  ), versions AS (
    SELECT r.j, r.id, r.op, r.committed_at,
           jsonb_build_object('id', r.id, 'fee',
             CASE WHEN r.status = 'failed' THEN NULL
                  ELSE to_char(0.25 + r.amount_minor * 0.00029, 'FM9990.0000') END,
             'method', r.method, 'status', r.status, 'currency', r.currency,
             'order_id', r.order_id, 'created_at', ${ISO('r.created_at')},
             'settled_on', r.settled_on, 'updated_at', ${ISO('r.committed_at')},
             'amount_minor', r.amount_minor,
             'gateway_response', CASE WHEN r.status = 'failed'
               THEN jsonb_build_object('code', '05', 'approved', false)
               ELSE jsonb_build_object('code', '00', 'approved', true,
                                       'auth_code', upper(left(md5(r.id), 6))) END) AS after
      FROM rows r
  ), changes AS (
    SELECT v.op, v.id,
           lag(v.after) OVER (PARTITION BY v.j ORDER BY v.committed_at) AS before,
           v.after, v.committed_at, ${LSN} + 2 AS lsn, row_number() OVER () AS n
      FROM versions v
    UNION ALL
    SELECT 'd', last.id, last.after, NULL, last.committed_at + interval '900 seconds',
           (10000000000000 + extract(epoch FROM last.committed_at + interval '900 seconds'
              - :start::timestamptz) * 1000000)::bigint * 4 + 3,
           :payments * 2 + last.j
      FROM (SELECT DISTINCT ON (j) * FROM versions ORDER BY j, committed_at DESC) last
     WHERE last.j % 15 = 7
  )
  ${ENVELOPE('shop.payments', 1)}`;

/** The raw-changelog partitions a bench day writes into: the day and the next (late commits). */
export function benchPartitionDays(day: string): string[] {
  return [day, nextDay(day)];
}

/** Writes one synthetic day into the raw changelog; its partitions must exist (see below). */
export async function writeBenchDay(
  warehouse: Knex | Knex.Transaction,
  plan: BenchDayPlan,
): Promise<BenchDayCounts> {
  const rows = rowsForChanges(plan.changes);
  const bindings = {
    day: plan.day,
    start: `${plan.day}T00:00:00Z`,
    orders: rows.orders,
    payments: rows.payments,
    customers: Math.max(1, plan.customers),
    prefix: plan.topicPrefix,
  };
  await warehouse.raw(ORDERS_SQL, bindings);
  await warehouse.raw(PAYMENTS_SQL, bindings);
  const counted = await warehouse.raw(
    `SELECT source_table, op, count(*)::int AS count
       FROM raw.change_events
      WHERE committed_at >= ?::timestamptz AND committed_at < ?::timestamptz + interval '2 days'
        AND source_table IN ('shop.orders', 'shop.payments')
      GROUP BY source_table, op`,
    [bindings.start, bindings.start],
  );
  const counts: BenchDayCounts = {
    changes: 0,
    orders: { c: 0, u: 0, d: 0 },
    payments: { c: 0, u: 0, d: 0 },
  };
  for (const row of counted.rows as {
    source_table: string;
    op: 'c' | 'u' | 'd';
    count: number;
  }[]) {
    const table = row.source_table === 'shop.orders' ? counts.orders : counts.payments;
    table[row.op] = row.count;
    counts.changes += row.count;
  }
  return counts;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

const partitionOf = (day: string) => `change_events_${day.replaceAll('-', '')}`;

/**
 * Creates the changelog partitions of the given days that do not exist, as the stream would
 * (same names and bounds), but unlogged and attached rather than created in place: attaching
 * takes a lock that neither queries nor inserts wait for, where creating a partition waits for
 * every query on the changelog and holds up the stream's inserts meanwhile.
 */
export async function attachBenchPartitions(warehouse: Knex, days: readonly string[]) {
  for (const day of days) {
    if (!DAY.test(day)) throw new Error(`not a day: "${day}"`);
    const partition = partitionOf(day);
    const exists = await warehouse.raw('SELECT to_regclass(?) IS NOT NULL AS present', [
      `raw.${partition}`,
    ]);
    if ((exists.rows as { present: boolean }[])[0]?.present) continue;
    await warehouse.transaction(async (trx) => {
      await trx.raw("SET LOCAL lock_timeout = '10s'");
      // Unlogged: a million changes would otherwise write gigabytes of WAL on the server the
      // source shares, and a replication slot that does not advance meanwhile may lose it. Only
      // what the bench writes is spared; the consolidation reads the partition the same way.
      await trx.raw('CREATE UNLOGGED TABLE raw.?? (LIKE raw.change_events INCLUDING DEFAULTS)', [
        partition,
      ]);
      // Bounds from a validated day: DDL takes no bind parameters.
      await trx.raw(
        `ALTER TABLE raw.change_events ATTACH PARTITION raw.?? FOR VALUES
           FROM ('${day}T00:00:00Z') TO ('${nextDay(day)}T00:00:00Z')`,
        [partition],
      );
    });
  }
}

/**
 * Removes the bench's partitions of the given days, and only those: dropped, or else emptied,
 * when the lock comes within a second (a long query on the changelog must not hold up the
 * stream's writes queued behind the bench). Returns the partitions left in place.
 */
export async function dropBenchPartitions(
  warehouse: Knex,
  days: readonly string[],
): Promise<string[]> {
  const left: string[] = [];
  for (const day of days) {
    const partition = partitionOf(day);
    const exists = await warehouse.raw('SELECT to_regclass(?) IS NOT NULL AS present', [
      `raw.${partition}`,
    ]);
    if (!(exists.rows as { present: boolean }[])[0]?.present) continue;
    const removed = await removeWithin(warehouse, 'DROP TABLE raw.??', partition).then(
      (dropped) => dropped || removeWithin(warehouse, 'TRUNCATE raw.??', partition),
    );
    if (!removed) left.push(`raw.${partition}`);
  }
  return left;
}

async function removeWithin(warehouse: Knex, statement: string, partition: string) {
  return warehouse
    .transaction(async (trx) => {
      await trx.raw("SET LOCAL lock_timeout = '1s'");
      await trx.raw(statement, [partition]);
    })
    .then(
      () => true,
      () => false,
    );
}
