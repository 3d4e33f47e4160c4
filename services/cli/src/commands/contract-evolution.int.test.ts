import {
  checkHistory,
  contractJsonSchema,
  currentContract,
  defineEventContract,
  ordersV2,
  type ContractOf,
} from '@tidemark/contracts';
import { createDatabase, loadConfig, waitFor } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestPipeline, type TestPipeline } from '../../../../test/integration/pipeline';
import {
  orderValueDifferences,
  waitOrderValuesEqual,
} from '../../../../test/integration/shop-values';
import { dlqCommand } from './dlq';

// A column added to a source table before any contract version knows it, as a team that
// migrates the source first would do. Its changes must be dead letters naming the column (the
// contract's content model is closed: nothing is silently dropped), counted nowhere; replay must
// leave them alone while no contract knows the column; once the stream runs a new contract
// version that does, `tidemark dlq replay` must bring every one of them into the values, once.

const config = loadConfig();
const source = createDatabase(config.source, 2);
const warehouse = createDatabase(config.warehouse, 4);
const pipeline = `contract-evolution-${randomUUID()}`;
const COLUMN = 'gift_note';
const ordersTopic = `${config.kafka.topicPrefix}.shop.orders`;
const tableOfTopic = new Map([[ordersTopic, 'shop.orders']]);
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );
const run = { currencies: [letters()], customerPrefix: pipeline };

/** What the team writes next: orders v3, knowing the new column. */
const ordersV3 = defineEventContract({
  ...ordersV2,
  version: 3,
  row: ordersV2.row.extend({ [COLUMN]: z.string().nullish() }),
});
const withV3: ContractOf = (table) => (table === 'shop.orders' ? ordersV3 : currentContract(table));

let started: TestPipeline | undefined;
const orderIds: string[] = [];

async function dropColumn(): Promise<void> {
  await source.raw(`ALTER TABLE shop.orders DROP COLUMN IF EXISTS ${COLUMN}`);
}

/** The dead letters of this run's orders, oldest first. */
async function deadLettersOfRun(): Promise<
  { id: string; code: string; path: string; message: string; replayed_at: Date | null }[]
> {
  return warehouse('ops.dead_letters')
    .where({ kafka_topic: ordersTopic })
    .whereRaw(`convert_from(raw, 'UTF8') LIKE ?`, [`%${run.customerPrefix}%`])
    .orderBy('id')
    .select('id', 'code', 'path', 'message', 'replayed_at');
}

async function replay(contractOf?: ContractOf, ids?: readonly string[]) {
  const printed: string[] = [];
  const idArgs = (ids ?? []).flatMap((id) => ['--id', id]);
  const code = await dlqCommand(['replay', ...idArgs, '--json'], {
    warehouse,
    kafka: started!.kafka,
    print: (line) => printed.push(line),
    tableOfTopic,
    ...(contractOf ? { contractOf } : {}),
  });
  expect(code).toBe(0);
  return JSON.parse(printed.join('\n')) as {
    replayed: unknown[];
    stillFailing: unknown[];
    considered: number;
  };
}

beforeAll(async () => {
  await dropColumn();
  started = await startTestPipeline({ config, warehouse, name: pipeline });
  await source.raw(`ALTER TABLE shop.orders ADD COLUMN ${COLUMN} text`);
  // Three orders that use the column, and one update: four changes no contract version knows.
  const now = Date.now();
  for (let index = 0; index < 3; index += 1) {
    const id = randomUUID();
    orderIds.push(id);
    await source('shop.orders').insert({
      id,
      customer_id: `${run.customerPrefix}-${index}`,
      amount_minor: 1000 + index,
      currency: run.currencies[0],
      status: 'pending',
      created_at: new Date(now - index * 1000),
      updated_at: new Date(now),
      [COLUMN]: `note ${index}`,
    });
  }
  await source('shop.orders')
    .where({ id: orderIds[0] })
    .update({ status: 'paid', updated_at: new Date() });
}, 120_000);

afterAll(async () => {
  await started?.stopAndReset();
  await dropColumn();
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

describe('a column added in the source before its contract version', () => {
  it('dead-letters every change that carries it, naming the column, and counts none', async () => {
    const deadLetters = await waitFor(
      'the four changes to be dead letters',
      async () => {
        const rows = await deadLettersOfRun();
        return rows.length >= 4 ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(deadLetters).toHaveLength(4);
    for (const letter of deadLetters) {
      expect(letter.code).toBe('CONTRACT_VIOLATION');
      expect(`${letter.path} ${letter.message}`).toContain(COLUMN);
    }
    await started!.waitCaughtUp('shop.orders');
    const { differences } = await orderValueDifferences(source, warehouse, pipeline, run);
    // Every window of the run is missing (nothing counted), not wrong.
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.every((line) => /: undefined vs \d+$/.test(line))).toBe(true);
  });

  it('is left alone by a replay while no contract version knows the column', async () => {
    const ids = (await deadLettersOfRun()).map((letter) => letter.id);
    const report = await replay(undefined, ids);
    expect(report.considered).toBe(4);
    expect(report.replayed).toHaveLength(0);
    expect(report.stillFailing).toHaveLength(4);
  });

  it('heals with a compatible contract version and a replay: every change counted once', async () => {
    // The new version passes the contract check under the table's declared mode.
    const history = [ordersV2].map((contract) => contractJsonSchema(contract));
    const check = checkHistory(history, contractJsonSchema(ordersV3), ordersV3.compatibility);
    expect(check.compatible).toBe(true);

    // The stream deployed with the new version: it resumes where it stopped.
    await started!.stream.stop();
    started = await startTestPipeline({ config, warehouse, name: pipeline, contractOf: withV3 });

    const ids = (await deadLettersOfRun()).map((letter) => letter.id);
    const report = await replay(withV3, ids);
    expect(report.replayed).toHaveLength(4);
    expect((await deadLettersOfRun()).every((letter) => letter.replayed_at !== null)).toBe(true);

    await started.waitLanded('shop.orders', orderIds, 4);
    await waitOrderValuesEqual(source, warehouse, pipeline, run, {
      withLateLedger: true,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    // A second replay finds nothing left to do.
    expect((await replay(withV3, ids)).replayed).toHaveLength(0);
  });
});
