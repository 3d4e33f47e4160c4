import { ConnectClient, createDatabase, loadConfig } from '@tidemark/runtime';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SHOP_CONNECTOR_NAME, STACK_SCRIPT } from '../paths';

const config = loadConfig();

describe('the running stack', () => {
  it('has the Debezium connector and its task RUNNING', async () => {
    const status = await new ConnectClient(config.connect.url).status(SHOP_CONNECTOR_NAME);
    expect(status?.state).toBe('RUNNING');
    expect(status?.tasks.map((task) => task.state)).toEqual(['RUNNING']);
  });

  it('captures through a publication limited to the shop tables, with full row images', async () => {
    const source = createDatabase(config.source, 1);
    try {
      const published = (await source('pg_publication_tables')
        .where({ pubname: 'tidemark_shop' })
        .orderBy(['schemaname', 'tablename'])
        .select('schemaname', 'tablename')) as { schemaname: string; tablename: string }[];
      // The shop's tables, and the heartbeat table Debezium writes to keep its slot moving.
      expect(published.map((row) => `${row.schemaname}.${row.tablename}`)).toEqual([
        'shop.orders',
        'shop.payments',
        'tidemark_cdc.heartbeat',
      ]);
      const identities = await source.raw(
        "select relname, relreplident from pg_class where oid in ('shop.orders'::regclass, 'shop.payments'::regclass) order by relname",
      );
      expect(identities.rows).toEqual([
        { relname: 'orders', relreplident: 'f' },
        { relname: 'payments', relreplident: 'f' },
      ]);
      const slot = await source('pg_replication_slots')
        .where({ slot_name: 'tidemark_shop' })
        .first();
      expect(slot).toMatchObject({ plugin: 'pgoutput', active: true });
    } finally {
      await source.destroy();
    }
  });

  // The test harness records which stack it started; infra:status describes the native one.
  it.runIf(process.env.TIDEMARK_STACK_IN_USE === 'native')(
    'reports every component healthy from infra:status',
    async () => {
      const { stdout } = await promisify(execFile)('bash', [STACK_SCRIPT, 'status']);
      for (const component of ['postgres', 'slot', 'kafka', 'connect', 'debezium', 'temporal']) {
        expect(stdout).toMatch(new RegExp(`^ok\\s+${component}\\s`, 'm'));
      }
      expect(stdout).toMatch(/debezium .* RUNNING \(tasks 0:RUNNING\)/);
    },
  );
});
