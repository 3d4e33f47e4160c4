import { METRICS } from '@tidemark/contracts';
import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPipeline, type TestPipeline } from '../../../../test/integration/pipeline';
import { waitOrderValuesEqual } from '../../../../test/integration/shop-values';
import { valuesCommand } from './values';

// `tidemark values` against a pipeline's provisional values on the live stack: three orders of a
// currency of the test's own, shown as the stream emitted them.

const config = loadConfig();
const source = createDatabase(config.source, 2);
const warehouse = createDatabase(config.warehouseReader, 2);
const writer = createDatabase(config.warehouse, 2);
const pipeline = `values-int-${randomUUID()}`;
const currency = Array.from({ length: 3 }, () =>
  String.fromCharCode(65 + Math.floor(Math.random() * 26)),
).join('');
const run = { currencies: [currency], customerPrefix: pipeline };
let started: TestPipeline | undefined;

beforeAll(async () => {
  started = await startTestPipeline({ config, warehouse: writer, name: pipeline });
  const createdAt = new Date();
  const ids = [1, 2, 3].map(() => randomUUID());
  await source('shop.orders').insert(
    ids.map((id, index) => ({
      id,
      customer_id: `${pipeline}-${index}`,
      amount_minor: 1000,
      currency,
      status: 'pending',
      created_at: createdAt,
      updated_at: createdAt,
    })),
  );
  await started.waitLanded('shop.orders', ids, 3);
  await waitOrderValuesEqual(source, writer, pipeline, run, { timeoutMs: 60_000, intervalMs: 250 });
}, 120_000);

afterAll(async () => {
  await started?.stopAndReset();
  await Promise.all([source.destroy(), warehouse.destroy(), writer.destroy()]);
});

async function values(argv: string[]): Promise<string> {
  const printed: string[] = [];
  const code = await valuesCommand(argv, {
    warehouse,
    metrics: METRICS,
    pipeline: config.stream.pipeline,
    print: (line) => printed.push(line),
  });
  expect(code).toBe(0);
  return printed.join('\n');
}

describe('tidemark values', () => {
  it("shows a pipeline's provisional values of a key", async () => {
    const shown = await values([
      '--metric',
      'orders_per_minute',
      '--pipeline',
      pipeline,
      '--key',
      `currency=${currency}`,
    ]);
    expect(shown).toContain(`orders_per_minute: provisional (pipeline ${pipeline}) values`);
    const rows = shown.split('\n').filter((line) => line.includes(` ${currency} `));
    expect(rows, shown).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`${currency}\\s+3\\s+\\d+\\s+open`));
    const revenue = await values([
      '--metric',
      'revenue_per_minute',
      '--pipeline',
      pipeline,
      '--key',
      currency,
      '--json',
    ]);
    expect(JSON.parse(revenue)).toEqual([
      expect.objectContaining({ key: { currency }, value: 3000 }),
    ]);
  });

  it('says when there is nothing to show', async () => {
    expect(
      await values(['--metric', 'orders_per_minute', '--pipeline', pipeline, '--key', 'XXXX']),
    ).toMatch(/none emitted yet: is `tidemark stream` running as pipeline values-int-/);
    expect(await values(['--metric', 'orders_per_minute', '--final', '--key', currency])).toMatch(
      /no day of these windows is consolidated yet/,
    );
  });
});
