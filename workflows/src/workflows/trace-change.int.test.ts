import { WorkflowFailedError } from '@temporalio/client';
import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemporalClient } from '../client';
import { createTidemarkWorker } from '../worker';
import { traceChangeWorkflow } from './trace-change';

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 2);
const sourceReader = createDatabase(config.sourceReader, 1);
// Each run has its own task queue and source table name, so runs never see each other's work.
const taskQueue = `trace-int-${randomUUID()}`;
const table = `int_test.orders_${randomUUID().slice(0, 8)}`;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  const { worker, connection } = await createTidemarkWorker({
    config,
    warehouse,
    source: sourceReader,
    taskQueue,
  });
  const running = worker.run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
});

afterAll(async () => {
  await stopWorker();
  await warehouse('raw.change_events').where({ source_table: table }).delete();
  await Promise.all([warehouse.destroy(), sourceReader.destroy()]);
});

describe('traceChangeWorkflow on the Temporal dev server', () => {
  it('reads back the changes landed for a row, oldest first', async () => {
    const base = {
      source_table: table,
      primary_key: JSON.stringify({ id: 'order-1' }),
      committed_at: new Date('2026-11-22T10:00:00Z'),
      captured_at: new Date('2026-11-22T10:00:00.100Z'),
      kafka_topic: 'int-test',
      kafka_partition: 0,
      kafka_timestamp: new Date('2026-11-22T10:00:00.200Z'),
    };
    // The raw changelog is partitioned by day: its writers create the day they write to.
    await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [['2026-11-22']]);
    await warehouse('raw.change_events').insert([
      {
        ...base,
        op: 'u',
        lsn: 200,
        kafka_offset: 2,
        before: '{"status":"pending"}',
        after: '{"status":"paid"}',
      },
      { ...base, op: 'c', lsn: 100, kafka_offset: 1, after: '{"status":"pending"}' },
    ]);
    const client = await createTemporalClient(config);
    try {
      const changes = await client.workflow.execute(traceChangeWorkflow, {
        taskQueue,
        workflowId: `trace-int-${randomUUID()}`,
        args: [{ table, primaryKey: { id: 'order-1' } }],
      });
      expect(changes.map((change) => [change.op, change.lsn])).toEqual([
        ['c', '100'],
        ['u', '200'],
      ]);
      expect(changes[1]?.after).toEqual({ status: 'paid' });
    } finally {
      await client.connection.close();
    }
  });

  it('fails without retrying when nothing has landed for the row', async () => {
    const client = await createTemporalClient(config);
    try {
      const run = client.workflow.execute(traceChangeWorkflow, {
        taskQueue,
        workflowId: `trace-int-${randomUUID()}`,
        args: [{ table, primaryKey: { id: 'missing' } }],
      });
      const error = await run.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toMatchObject({ type: 'ChangeNotLanded' });
    } finally {
      await client.connection.close();
    }
  });
});
