import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsolidationActivities } from './consolidation';

// What a pipeline never applied although the changelog holds it: the rows a truncate removed
// (the stream keeps truncates out of its provisional values) and changes in offsets Kafka
// deleted before the pipeline read them, which another pipeline landed. The day is
// consolidated from the real changelog and the reconciliation names both.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 2);
const source = createDatabase(config.sourceReader, 1);
const pipeline = `reconcile-unseen-${randomUUID()}`;
const topic = `${pipeline}.shop.orders`;
const day = '2001-03-04';
const MINUTE = 60_000;
const dayStart = Date.parse(`${day}T00:00:00Z`);
const at = (minute: number) => new Date(dayStart + minute * MINUTE);
const currency = (name: string) => `${pipeline}-${name}`;
let lsn = 50_000;
let runId: string | undefined;

/** A change of shop.orders in the raw changelog, at a Kafka offset of this test's topic. */
async function land(op: 'c' | 't', minute: number, id: string, key: string, offset: number) {
  lsn += 1;
  const row = {
    id,
    customer_id: id,
    currency: currency(key),
    status: 'paid',
    created_at: at(minute),
  };
  await warehouse('raw.change_events').insert({
    source_table: 'shop.orders',
    op,
    primary_key: JSON.stringify(op === 't' ? {} : { id }),
    lsn,
    committed_at: at(minute),
    captured_at: at(minute),
    after: op === 't' ? null : JSON.stringify(row),
    kafka_topic: topic,
    kafka_partition: 0,
    kafka_offset: offset,
    kafka_timestamp: at(minute),
  });
}

/** A provisional value of orders_per_minute as the stream wrote it. */
async function provisional(minute: number, key: string, rows: number) {
  await warehouse('provisional.metric_values').insert({
    pipeline,
    metric: 'orders_per_minute',
    window_start: at(minute),
    window_end: at(minute + 1),
    group_key: JSON.stringify([currency(key)]),
    key_values: JSON.stringify([currency(key)]),
    accumulator: { sum: 0, rows, values: {}, measured: 0 },
    value: rows,
  });
}

beforeAll(async () => {
  await warehouse('stream.pipelines').insert({ pipeline, observed_from: null });
  await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [[day]]);
  // Two orders at 10:00 the stream counted; the table truncated at 12:00 (kept out: the ledger
  // holds it without a key); an order at 13:00 it counted.
  await land('c', 600, `${pipeline}-a`, 'truncated', 1);
  await land('c', 600, `${pipeline}-b`, 'truncated', 2);
  await land('t', 720, `${pipeline}-t`, 'truncated', 3);
  await warehouse('ops.late_events').insert({
    pipeline,
    metric: 'orders_per_minute',
    source_table: 'shop.orders',
    primary_key: '{}',
    lsn,
    op: 't',
    sign: -1,
    reason: 'truncate',
  });
  await land('c', 780, `${pipeline}-c`, 'truncated', 4);
  await provisional(600, 'truncated', 2);
  await provisional(780, 'truncated', 1);
  // Offsets 100 and 101 deleted by Kafka before this pipeline read them; another pipeline
  // landed the order at 14:00 they held.
  await land('c', 840, `${pipeline}-d`, 'gap', 100);
  await warehouse('ops.stream_gaps').insert({
    pipeline,
    topic,
    partition: 0,
    missing_from: 100,
    missing_until: 102,
  });
});

afterAll(async () => {
  if (runId) {
    await warehouse('audit.reconciliation').where({ run_id: runId }).delete();
    await warehouse('final.staged_values').where({ run_id: runId }).delete();
    await warehouse('final.runs').where({ run_id: runId }).delete();
  }
  await warehouse('provisional.metric_values').where({ pipeline }).delete();
  await warehouse('ops.late_events').where({ pipeline }).delete();
  await warehouse('ops.stream_gaps').where({ pipeline }).delete();
  await warehouse('stream.pipelines').where({ pipeline }).delete();
  await warehouse('raw.change_events').where({ kafka_topic: topic }).delete();
  await Promise.all([warehouse.destroy(), source.destroy()]);
});

describe('the reconciliation of what the pipeline never applied', () => {
  it('names the rows a truncate removed and the changes Kafka deleted unread', async () => {
    const activities = createConsolidationActivities({ warehouse, source, pipeline });
    runId = `reconcile-unseen-${randomUUID()}`;
    const run = await activities.startConsolidation({
      runId,
      workflowId: runId,
      day,
      asOf: at(24 * 60 + 30).toISOString(),
      reason: 'reconcile unseen test',
      metrics: ['orders_per_minute'],
    });
    await activities.computeFinalValues(run);
    await activities.reconcile(run);
    const rows = await warehouse('audit.reconciliation')
      .where({ run_id: runId })
      .whereRaw('key_values ->> 0 LIKE ?', [`${pipeline}-%`])
      .orderBy('window_start')
      .select('window_start', 'key_values', 'provisional', 'final', 'cause', 'explanation');
    expect(
      rows.map((row) => [
        (new Date(row.window_start).getTime() - dayStart) / MINUTE,
        String((row.key_values as string[])[0]).slice(pipeline.length + 1),
        row.provisional === null ? null : Number(row.provisional),
        row.final === null ? null : Number(row.final),
        row.cause,
        row.explanation,
      ]),
    ).toEqual([
      [600, 'truncated', 2, null, 'truncated', '2 rows removed by a truncate of shop.orders (−2)'],
      [780, 'truncated', 1, 1, 'exact', null],
      [840, 'gap', null, 1, 'kafka_gap', '1 change Kafka deleted unread of shop.orders (+1)'],
    ]);
  });
});
