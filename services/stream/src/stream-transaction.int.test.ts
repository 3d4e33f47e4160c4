import { createDatabase, loadConfig } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangelogPartitions } from './changelog-partitions';
import { knownRowsStatement } from './row-knowledge';
import { configureStreamTransaction } from './stream-transaction';

// A day's changelog partition has no statistics until autovacuum first analyses it: on every
// new day, and on a fresh stack, the stream's look-ups are planned blind. Reproduced here with a
// day partition autovacuum may not touch, filled as the stream fills one, and never analysed.

const warehouse = createDatabase(loadConfig().warehouse, 1);
const DAY = new Date(Date.UTC(2053, 0, 1) + Math.floor(Math.random() * 3_000) * 86_400_000)
  .toISOString()
  .slice(0, 10);
const PARTITION = `raw.change_events_${DAY.replaceAll('-', '')}`;
const TOPIC = `plan-test-${DAY}`;
const CHANGES = 150_000;

beforeAll(async () => {
  await new ChangelogPartitions(warehouse).ensure([DAY]);
  await warehouse.raw(`ALTER TABLE ${PARTITION} SET (autovacuum_enabled = false)`);
  await warehouse.raw(
    `INSERT INTO raw.change_events (source_table, op, primary_key, lsn, tx_id, committed_at,
        captured_at, before, after, contract_version, kafka_topic, kafka_partition, kafka_offset,
        kafka_timestamp)
       SELECT 'shop.orders', 'c', jsonb_build_object('id', i), i, i,
              ?::timestamptz + i * interval '1 ms', now(), NULL,
              jsonb_build_object('id', i, 'note', repeat('x', 300)), 2, ?, 0, i, now()
         FROM generate_series(1, ?) AS i`,
    [`${DAY}T00:00:00Z`, TOPIC, CHANGES],
  );
});

afterAll(async () => {
  await warehouse.raw(`DROP TABLE IF EXISTS ${PARTITION}`);
  await warehouse.destroy();
});

/** The plan of the row look-up of 300 keys of the day, in a transaction set up by `setUp`. */
async function lookUpPlan(setUp: (trx: Knex.Transaction) => Promise<unknown>): Promise<string> {
  const rows = Array.from({ length: 300 }, (_, i) => ({
    table: 'shop.orders',
    primaryKey: JSON.stringify({ id: 1 + i * 150 }),
  }));
  const { sql, bindings } = knownRowsStatement(
    'plan-test',
    rows,
    { topic: TOPIC, partition: 0, batchOffset: 10n ** 9n },
    Date.parse(`${DAY}T00:00:00Z`),
  );
  return warehouse.transaction(async (trx) => {
    await setUp(trx);
    const explained = await trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
      `EXPLAIN (FORMAT TEXT) ${sql}`,
      bindings,
    );
    return explained.rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}

describe('a stream transaction', () => {
  it("probes a never-analysed changelog day by the row's key alone, without JIT", async () => {
    const partition = PARTITION.replace('raw.', '');
    const analysed = await warehouse.raw<{ rows: { reltuples: number }[] }>(
      'SELECT reltuples FROM pg_class WHERE oid = ?::regclass',
      [PARTITION],
    );
    expect(analysed.rows[0]?.reltuples).toBe(-1);

    // Index probes alone (the stream's settings before): the planner, guessing, intersects the
    // key's probe with the whole day of the commit-time index, for every key.
    const unguarded = await lookUpPlan((trx) => trx.raw('SET LOCAL enable_seqscan = off'));
    expect(unguarded).toMatch(new RegExp(`Bitmap Index Scan on ${partition}_committed_at_idx`));

    const plan = await lookUpPlan(configureStreamTransaction);
    expect(plan).toMatch(new RegExp(`Index Scan using ${partition}_primary_key_idx`));
    expect(plan).not.toMatch(/committed_at_idx|Bitmap|JIT/);
  });
});
