import { ConnectClient, createDatabase, loadConfig } from '@tidemark/runtime';
import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      // The shop's tables, the heartbeat table Debezium writes to keep its slot moving, and its
      // signal table (incremental snapshots: `tidemark connector snapshot`).
      expect(published.map((row) => `${row.schemaname}.${row.tablename}`)).toEqual([
        'shop.orders',
        'shop.payments',
        'tidemark_cdc.debezium_signal',
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

  // `up` stops at the state directory, before starting anything, when it is not the user's own.
  describe.runIf(process.env.TIDEMARK_STACK_IN_USE === 'native')('its state directory', () => {
    const upWith = (stateDir: string) =>
      promisify(execFile)('bash', [STACK_SCRIPT, 'up'], {
        env: { ...process.env, TIDEMARK_STATE_DIR: stateDir },
      });

    it("is the running user's own, mode 700 (710 for the postgres group as root)", async () => {
      const state = await stat(process.env.TIDEMARK_STATE_DIR ?? '/var/tmp/tidemark');
      expect(state.uid).toBe(process.getuid?.());
      expect(state.mode & 0o777).toBe(process.getuid?.() === 0 ? 0o710 : 0o700);
    });

    it('is refused when it is a symbolic link', async () => {
      const scratch = await mkdtemp(join(tmpdir(), 'tidemark-state-'));
      try {
        await mkdir(join(scratch, 'elsewhere'));
        await symlink(join(scratch, 'elsewhere'), join(scratch, 'state'));
        await expect(upWith(join(scratch, 'state'))).rejects.toMatchObject({
          stderr: expect.stringMatching(/symbolic link: refusing to use it/),
        });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });

    it.runIf(process.getuid?.() === 0)('is refused when another user owns it', async () => {
      const scratch = await mkdtemp(join(tmpdir(), 'tidemark-state-'));
      try {
        await mkdir(join(scratch, 'state'));
        await chown(join(scratch, 'state'), 65534, 65534);
        await expect(upWith(join(scratch, 'state'))).rejects.toMatchObject({
          stderr: expect.stringMatching(/belongs to .*refusing to use it/),
        });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  });
});
