import { ConnectClient, createDatabase, loadConfig } from '@tidemark/runtime';
import knex, { type Knex } from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { SHOP_CONNECTOR_NAME } from '../paths';

// Each deployable's PostgreSQL role can do what it must and no more (migration
// 0016-least-privilege); the owner only runs migrations (and this test's own assertions).

const config = loadConfig();
const owner = createDatabase(config.warehouse, 1);
const stream = createDatabase(config.warehouseStream, 1);
const worker = createDatabase(config.warehouseWorker, 1);
const reader = createDatabase(config.warehouseReader, 1);

afterAll(async () => {
  await Promise.all([owner, stream, worker, reader].map((db) => db.destroy()));
});

const ROLE_SETTINGS = {
  stream: config.warehouseStream,
  worker: config.warehouseWorker,
  reader: config.warehouseReader,
};
const STREAM_SCHEMAS = ['raw', 'ops', 'stream', 'provisional'];
const WORKER_SCHEMAS = ['final', 'quality', 'audit'];
const PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

/** What a role may do to a table of a schema, by the design in docs/security.md. */
function expected(role: 'stream' | 'worker' | 'reader', schema: string): boolean[] {
  const writes =
    (role === 'stream' && STREAM_SCHEMAS.includes(schema)) ||
    (role === 'worker' && WORKER_SCHEMAS.includes(schema));
  const reads = writes || role === 'reader' || role === 'worker';
  return [reads, writes, writes, writes];
}

/** Runs `work` in a transaction that is always rolled back: nothing a test writes stays. */
async function attempt(db: Knex, work: (trx: Knex.Transaction) => Promise<unknown>) {
  const trx = await db.transaction();
  try {
    return await work(trx);
  } finally {
    await trx.rollback();
  }
}

const DENIED = { code: '42501' };

describe('warehouse roles', () => {
  it('hold exactly their privileges on every table of the warehouse schemas', async () => {
    const tables = (
      await owner.raw<{ rows: { schema: string; name: string }[] }>(
        `
        SELECT n.nspname AS schema, c.relname AS name
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname = ANY(?)
         ORDER BY 1, 2`,
        [[...STREAM_SCHEMAS, ...WORKER_SCHEMAS]],
      )
    ).rows;
    expect(tables.length).toBeGreaterThan(15);
    const mismatches: string[] = [];
    for (const role of ['stream', 'worker', 'reader'] as const) {
      const user = ROLE_SETTINGS[role].user;
      for (const { schema, name } of tables) {
        const held = await Promise.all(
          PRIVILEGES.map(async (privilege) => {
            const { rows } = await owner.raw<{ rows: { held: boolean }[] }>(
              'SELECT has_table_privilege(?, ?, ?) AS held',
              [user, `${schema}.${name}`, privilege],
            );
            return rows[0]?.held ?? false;
          }),
        );
        const want = expected(role, schema);
        if (held.join() !== want.join()) {
          mismatches.push(`${role} on ${schema}.${name}: holds ${held}, expected ${want}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('let the stream land changes, creating day partitions, but not write final values', async () => {
    await attempt(stream, async (trx) => {
      await trx.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [['2031-07-14']]);
      await trx('ops.consumer_offsets').select().limit(1);
    });
    await expect(
      attempt(stream, (trx) => trx.raw("UPDATE final.runs SET status = 'forged' WHERE false")),
    ).rejects.toMatchObject(DENIED);
    await expect(
      attempt(stream, (trx) => trx.raw('SELECT 1 FROM audit.reconciliation LIMIT 1')),
    ).rejects.toMatchObject(DENIED);
    await expect(
      attempt(stream, (trx) => trx.raw('CREATE TABLE raw.forged (id int)')),
    ).rejects.toMatchObject(DENIED);
  });

  it("let the worker build and drop a backfill snapshot partition, but not touch the stream's state", async () => {
    await attempt(worker, async (trx) => {
      const snapshotId = 2_000_000_000 + Math.floor(Math.random() * 1_000_000);
      const relation = `final.state_snapshot_${snapshotId}`;
      await trx.raw(
        `CREATE UNLOGGED TABLE ${relation} PARTITION OF final.state_snapshot_rows FOR VALUES IN (${snapshotId})`,
      );
      await trx.raw(`CREATE INDEX ON ${relation} (source_table, t_ms)`);
      await trx.raw(`ANALYZE ${relation}`);
      await trx.raw(`DROP TABLE ${relation}`);
      await trx.raw('CREATE TEMPORARY TABLE pre_start ON COMMIT DROP AS SELECT 1 AS one');
    });
    await expect(
      attempt(worker, (trx) => trx.raw('DELETE FROM ops.dead_letters WHERE false')),
    ).rejects.toMatchObject(DENIED);
    await expect(
      attempt(worker, (trx) =>
        trx.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [['2031-07-15']]),
      ),
    ).rejects.toMatchObject(DENIED);
  });

  it('let the reader read everything and write nothing', async () => {
    await attempt(reader, (trx) => trx.raw('SELECT count(*) FROM final.metric_values'));
    for (const statement of [
      'DELETE FROM ops.dead_letters WHERE false',
      "UPDATE provisional.metric_values SET pipeline = 'x' WHERE false",
      'INSERT INTO audit.reconciliation SELECT * FROM audit.reconciliation WHERE false',
      'CREATE TEMPORARY TABLE scratch (id int)',
    ]) {
      await expect(
        attempt(reader, (trx) => trx.raw(statement)),
        statement,
      ).rejects.toMatchObject(DENIED);
    }
  });

  // Its logical replication (a connection naming the database) is what Debezium streams with:
  // kafka-access.int.test.ts sees its changes arrive.
  it('refuse physical replication (a copy of the whole cluster) to Debezium', async () => {
    const physical = knex({
      client: 'pg',
      // pg_hba refuses before any password is asked for.
      connection: {
        host: config.source.host,
        port: config.source.port,
        user: 'tidemark_debezium',
        password: 'not needed',
        database: 'source',
        replication: true,
      } as Knex.PgConnectionConfig,
      pool: { min: 0, max: 1 },
      log: { error: () => undefined },
    });
    try {
      await expect(physical.raw('IDENTIFY_SYSTEM')).rejects.toThrow(
        /pg_hba.conf rejects replication/,
      );
    } finally {
      await physical.destroy();
    }
  });

  it('keep the Debezium password out of the connector config Kafka Connect shows', async () => {
    const shown = await fetch(
      `${config.connect.url}/connectors/${SHOP_CONNECTOR_NAME}/config`,
    ).then((response) => response.json() as Promise<Record<string, string>>);
    expect(shown['database.password']).toBe('${env:TIDEMARK_DEBEZIUM_PASSWORD}');
    const status = await new ConnectClient(config.connect.url).status(SHOP_CONNECTOR_NAME);
    expect(status?.tasks.map((task) => task.state)).toEqual(['RUNNING']);
  });
});
