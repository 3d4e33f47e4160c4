import {
  defineEventContract,
  EVENT_CONTRACTS,
  METRICS,
  timestamptz,
  uuid,
} from '@tidemark/contracts';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newCommand } from '../commands/new';
import { nextMigrationNumber } from './names';
import { projectLayout, type ProjectLayout } from './project';

// Each scaffolder run on a copy of the project's own registries (contracts, metrics,
// expectations, migrations, connector), checked file by file. The project may have been
// extended already (template-extension.int.test.ts runs these tests after the README's three
// commands), so the tests use tables and metrics of their own and read the next numbers from
// what is there. The end-to-end check is template-extension.int.test.ts.

let layout: ProjectLayout;
let printed: string[];
let ran: string[][];

beforeEach(() => {
  const real = projectLayout();
  const root = mkdtempSync(join(tmpdir(), 'tidemark-scaffold-'));
  layout = projectLayout(root);
  for (const key of [
    'registry',
    'catalogue',
    'expectations',
    'migrationIndex',
    'connectorConfig',
  ] as const) {
    cpSync(real[key], layout[key]);
  }
  cpSync(join(real.eventsDir, 'shop-orders.ts'), join(layout.eventsDir, 'shop-orders.ts'));
  // Written files are formatted with the project's own Prettier settings.
  cpSync(join(real.root, '.prettierrc.json'), join(root, '.prettierrc.json'));
  cpSync(real.sourceMigrationsDir, layout.sourceMigrationsDir, { recursive: true });
  printed = [];
  ran = [];
});

afterEach(() => {
  rmSync(layout.root, { recursive: true, force: true });
});

const read = (path: string) => readFileSync(path, 'utf8');

function run(argv: string[], contracts = EVENT_CONTRACTS) {
  return newCommand(argv, {
    print: (line) => printed.push(line),
    layout,
    contracts,
    metrics: METRICS,
    tidemark: (args) => {
      ran.push(args);
      return 0;
    },
  });
}

const PROBE = [
  'table',
  'shop.scaffold_probe',
  '--columns',
  'id:uuid:pk,order_id:uuid,amount_minor:bigint,currency:text,created_at:timestamptz',
];
const nextMigration = () => nextMigrationNumber(readdirSync(layout.sourceMigrationsDir));
const ordersVersion = Math.max(
  ...EVENT_CONTRACTS.filter((contract) => contract.table === 'shop.orders').map((c) => c.version),
);

describe('tidemark new table', () => {
  it('writes the migration, the contract and its test, and registers them', async () => {
    const number = nextMigration();
    const connectorBefore = JSON.parse(read(layout.connectorConfig)) as Record<string, string>;
    expect(await run(PROBE)).toBe(0);
    const contract = read(join(layout.eventsDir, 'shop-scaffold-probe.ts'));
    expect(contract).toContain("import { timestamptz, uuid } from '../debezium/encodings';");
    expect(contract).toMatch(
      /export const scaffoldProbeV1 = defineEventContract\(\{\n {2}table: 'shop.scaffold_probe',/,
    );
    expect(contract).toContain('amount_minor: z.int(),');
    expect(contract).toContain("eventTimeField: 'created_at',");
    expect(read(join(layout.eventsDir, 'shop-scaffold-probe.test.ts'))).toContain(
      "from './shop-scaffold-probe'",
    );
    expect(read(layout.registry)).toContain(
      "import { scaffoldProbeV1 } from './shop-scaffold-probe';",
    );
    expect(read(layout.registry)).toMatch(/\s+scaffoldProbeV1,?\s*\];/);
    const migration = read(join(layout.sourceMigrationsDir, `${number}-shop-scaffold-probe.ts`));
    expect(migration).toContain("table.bigInteger('amount_minor').notNullable();");
    expect(migration).toContain('ALTER TABLE shop.scaffold_probe REPLICA IDENTITY FULL');
    expect(migration).toContain('ALTER PUBLICATION tidemark_shop ADD TABLE shop.scaffold_probe');
    expect(read(layout.migrationIndex)).toContain(
      `import * as scaffoldProbeTable from './source/${number}-shop-scaffold-probe';`,
    );
    expect(read(layout.migrationIndex)).toContain(
      `{ name: '${number}-shop-scaffold-probe', ...scaffoldProbeTable },`,
    );
    const expectations = read(layout.expectations).replace(/,?\s+/g, ' ');
    expect(expectations).toContain(
      "{ kind: 'not_null' table: 'shop.scaffold_probe' fields: ['id' 'created_at'] severity: 'ERROR' }",
    );
    expect(expectations).toContain(
      "{ kind: 'row_count_matches_source' table: 'shop.scaffold_probe' tolerance: 0.01 severity: 'ERROR' }",
    );
    const connector = JSON.parse(read(layout.connectorConfig)) as Record<string, string>;
    expect(connector['table.include.list']).toBe(
      `${connectorBefore['table.include.list']},shop.scaffold_probe`,
    );
    // The snapshot is exported by the project's CLI in a fresh process, which loads the new files.
    expect(ran).toEqual([['contracts', 'export']]);
    expect(printed.filter((line) => /^(created|updated) /.test(line))).toHaveLength(7);
    expect(printed.join('\n')).toMatch(/next: npx tidemark migrate/);
  });

  it('refuses a table that has a contract, and a file that exists, writing nothing', async () => {
    await expect(
      run(['table', 'shop.orders', '--columns', 'id:uuid:pk,created_at:timestamptz']),
    ).rejects.toThrow(
      'shop.orders already has an event contract; to change its columns: tidemark new contract-version shop.orders',
    );
    const registry = read(layout.registry);
    const migrations = readdirSync(layout.sourceMigrationsDir);
    writeFileSync(join(layout.eventsDir, 'shop-scaffold-probe.test.ts'), '// mine\n');
    await expect(run(PROBE)).rejects.toThrow(
      'contracts/src/events/shop-scaffold-probe.test.ts exists; not overwriting it',
    );
    expect(read(layout.registry)).toBe(registry);
    expect(existsSync(join(layout.eventsDir, 'shop-scaffold-probe.ts'))).toBe(false);
    expect(readdirSync(layout.sourceMigrationsDir)).toEqual(migrations);
    expect(ran).toEqual([]);
  });
});

describe('tidemark new metric', () => {
  const probeV1 = defineEventContract({
    table: 'shop.scaffold_probe',
    version: 1,
    row: z.strictObject({
      id: uuid(),
      amount_minor: z.int(),
      currency: z.string(),
      created_at: timestamptz(),
    }),
    primaryKey: ['id'],
    eventTimeField: 'created_at',
    idempotencyKey: ['id'],
    owner: 'finance',
    piiFields: [],
    compatibility: 'BACKWARD',
  });
  const withProbe = [...EVENT_CONTRACTS, probeV1];

  it('writes a validated definition in its own file and lists it in the catalogue', async () => {
    const argv = [
      'metric',
      'scaffold_probe_amount',
      '--table',
      'shop.scaffold_probe',
      '--aggregate',
      'sum:amount_minor',
    ];
    expect(await run([...argv, '--window', 'tumbling:1h', '--keys', 'currency'], withProbe)).toBe(
      0,
    );
    const definition = read(join(layout.metricsDir, 'scaffold-probe-amount.ts'));
    expect(definition).toContain("import { defineMetric, HOUR, MINUTE, SECOND } from './define';");
    expect(definition).toContain("aggregate: { fn: 'sum', of: { field: 'amount_minor' } },");
    expect(definition).toContain("window: { kind: 'tumbling', sizeMs: HOUR },");
    expect(definition).toContain("keys: ['currency'],");
    expect(definition).toContain("owner: 'finance',");
    expect(read(layout.catalogue)).toContain(
      "import { scaffoldProbeAmount } from './scaffold-probe-amount';",
    );
    expect(read(layout.catalogue)).toMatch(/\s+scaffoldProbeAmount,?\s*\];/);
    expect(ran).toEqual([['contracts', 'check']]);
  });

  it('refuses a name taken, a table without a contract, and a definition the catalogue would refuse', async () => {
    const window = ['--aggregate', 'count', '--window', 'tumbling:1h'];
    await expect(
      run(['metric', 'orders_per_minute', '--table', 'shop.orders', ...window]),
    ).rejects.toThrow('a metric named orders_per_minute is in the catalogue already');
    await expect(run(['metric', 'x', '--table', 'shop.scaffold_probe', ...window])).rejects.toThrow(
      /--table: shop.scaffold_probe has no event contract; add the table first/,
    );
    const bad = ['metric', 'x', '--table', 'shop.scaffold_probe', '--aggregate', 'avg:currency'];
    await expect(
      run([...bad, '--window', 'hopping:5m/1m', '--keys', 'region'], withProbe),
    ).rejects.toThrow(
      'the definition would be refused:\n  keys.0: shop.scaffold_probe v1 has no field "region"',
    );
    await expect(
      run(['metric', 'x', '--table', 'shop.orders', '--aggregate', 'count', '--window', 'weekly']),
    ).rejects.toThrow(
      /--window: expected tumbling:<size>, hopping:<size>\/<slide> or session:<gap>/,
    );
    expect(existsSync(join(layout.metricsDir, 'x.ts'))).toBe(false);
  });
});

describe('tidemark new contract-version', () => {
  it('declares the next version beside the last, optional columns, with their migration', async () => {
    const number = nextMigration();
    expect(
      await run([
        'contract-version',
        'shop.orders',
        '--add',
        'gift_note:text,gift_wrapped_at:timestamptz',
      ]),
    ).toBe(0);
    const [last, next] = [ordersVersion, ordersVersion + 1];
    const contract = read(join(layout.eventsDir, 'shop-orders.ts'));
    expect(contract).toContain(
      [
        `export const ordersV${next} = defineEventContract({`,
        `  ...ordersV${last},`,
        `  version: ${next},`,
        `  row: ordersV${last}.row.extend({`,
        '    gift_note: z.string().nullish(),',
        '    gift_wrapped_at: timestamptz().nullish(),',
      ].join('\n'),
    );
    expect(read(layout.registry)).toMatch(
      new RegExp(`import \\{ ordersV1, ordersV2, .*ordersV${next} \\} from './shop-orders';`),
    );
    const migration = read(join(layout.sourceMigrationsDir, `${number}-shop-orders-v${next}.ts`));
    expect(migration).toContain("table.text('gift_note');");
    expect(migration).toContain("table.dropColumns('gift_note', 'gift_wrapped_at');");
    expect(ran).toEqual([
      ['contracts', 'export'],
      ['contracts', 'check'],
    ]);
    expect(relative(layout.root, layout.registry)).toBe('contracts/src/events/registry.ts');
  });

  it('refuses a table without a contract, a column the last version has, and a new primary key', async () => {
    const migrations = readdirSync(layout.sourceMigrationsDir);
    await expect(run(['contract-version', 'shop.scaffold_probe'])).rejects.toThrow(
      'shop.scaffold_probe has no event contract yet: tidemark new table shop.scaffold_probe --columns ...',
    );
    await expect(run(['contract-version', 'shop.orders', '--add', 'channel:text'])).rejects.toThrow(
      `--add: shop.orders v${ordersVersion} has channel already`,
    );
    await expect(run(['contract-version', 'shop.orders', '--add', 'ref:uuid:pk'])).rejects.toThrow(
      '--add:\n  ref: the primary key cannot change',
    );
    expect(readdirSync(layout.sourceMigrationsDir)).toEqual(migrations);
  });
});
