import { METRICS } from '@tidemark/contracts';
import { runLoad, type LoadReport } from '@tidemark/loadgen';
import {
  createDatabase,
  createKafka,
  createLogger,
  loadConfig,
  silentLogger,
  waitFor,
} from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStreamPipeline } from './metrics-pipeline';
import type { StreamPipeline } from './pipeline-options';
import { waitOrderValuesEqual } from '../../../test/integration/shop-values';
import { resetPipeline } from './pipeline-reset';

// A realistic load (inserts, payments, updates, deletes, retries, key changes, late and poison
// rows) through the real Debezium, Kafka and warehouse: the provisional values must equal the
// source table aggregated directly, less the rows later than the allowed lateness, which must be
// in the late ledger, and the poison rows, which must be dead letters.

const config = loadConfig();
const source = createDatabase(config.source, 6);
const warehouse = createDatabase(config.warehouse, 4);
const prefix = config.kafka.topicPrefix;
const pipeline = `stream-load-${randomUUID()}`;
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );
const currencies = [letters(), letters()];
const run = { currencies, customerPrefix: pipeline };
const MINUTE = 60_000;
let streams: StreamPipeline[] = [];
let report: LoadReport;
// Two consumers of one group share the partitions, as two processes would: one pipeline.
const appliedBy = [0, 0];
// The session queue as each consumer last saw it, and the session contributions applied.
const queueSeenBy: { batches: number; oldestWaitMs: number }[] = [];
let sessionInputsApplied = 0;
// The consumers' warnings and errors, shown when the values never match.
const warnings: string[] = [];
const logger = createLogger({ level: 'warn', write: (line) => warnings.push(line) });

function startConsumer(index: number): Promise<StreamPipeline> {
  return startStreamPipeline({
    kafka: createKafka(config, `${pipeline}-${index}`, logger.child({ consumer: index })),
    warehouse,
    logger: logger.child({ consumer: index }),
    pipeline,
    topics: new Map([
      ['shop.orders', `${prefix}.shop.orders`],
      ['shop.payments', `${prefix}.shop.payments`],
    ]),
    heartbeatTopic: `${prefix}.heartbeat.${prefix}`,
    metrics: METRICS,
    startAt: 'latest',
    idleTimeoutMs: 1_000,
    tickMs: 250,
    sessionTimeoutMs: 10_000,
    onBatch: (stats) => (appliedBy[index] = (appliedBy[index] ?? 0) + stats.applied),
    onSessions: (stats) => (sessionInputsApplied += stats.inputs),
    onSessionQueue: (queue) => (queueSeenBy[index] = queue),
  });
}

beforeAll(async () => {
  streams = [await startConsumer(0)];
  await streams[0]?.joined;
  streams.push(await startConsumer(1));
  await Promise.all(streams.map((stream) => stream.joined));
  // Late rows are only late against a known watermark: let one order establish it first.
  await source('shop.orders').insert({
    customer_id: `${pipeline}-warmup`,
    amount_minor: 100,
    currency: currencies[0],
    status: 'paid',
  });
  await waitFor(
    'the orders watermark',
    async () =>
      streams.every((stream) => (stream.watermarks().get('orders_per_minute') ?? null) !== null) ||
      undefined,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  report = await runLoad(source, {
    ratePerSec: 800,
    durationMs: 10_000,
    seed: 20261123,
    currencies,
    customerPrefix: pipeline,
    customers: 40,
    updates: 0.15,
    deletes: 0.03,
    duplicates: 0.02,
    pkChanges: 0.01,
    payments: 0.2,
    poison: 0.005,
    late: 0.03,
    lateByMs: 15 * MINUTE,
    outOfOrder: 0.2,
  });
});

afterAll(async () => {
  await Promise.all(streams.map((stream) => stream.stop()));
  await resetPipeline(warehouse, createKafka(config, pipeline, silentLogger), pipeline);
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

/** Ids of rows whose contributions are late: the late rows, followed through key changes. */
function lateIds(): Set<string> {
  const late = new Set(report.ids.late);
  for (const { from, to } of report.ids.idChanges) if (late.has(from)) late.add(to);
  return late;
}

describe('the stream pipeline under a realistic load, on two consumers', () => {
  it('wrote a load with every kind of change', () => {
    for (const kind of [
      'insert_order',
      'update_order',
      'delete_order',
      'insert_payment',
    ] as const) {
      expect(report.byKind[kind], kind).toBeGreaterThan(0);
    }
    expect(report.late).toBeGreaterThan(0);
    expect(report.poison).toBeGreaterThan(0);
  });

  it('ends with provisional values equal to the source table, late rows left out', async () => {
    const excluded = new Set([...lateIds(), ...report.ids.poison]);
    const matched = await waitOrderValuesEqual(source, warehouse, pipeline, run, {
      excluded,
      context: () => `consumer warnings:\n${warnings.slice(-20).join('\n')}`,
    });
    expect(matched.windows).toBeGreaterThan(0);
    // Both consumers of the group did part of the work.
    expect(
      appliedBy.every((applied) => applied > 0),
      `applied ${appliedBy.join(' + ')}`,
    ).toBe(true);
  });

  it('applies every queued session contribution, as both consumers see', async () => {
    await waitFor(
      'both consumers to see the session queue empty',
      async () =>
        (queueSeenBy.length === 2 && queueSeenBy.every((queue) => queue?.batches === 0)) ||
        undefined,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const queued = await warehouse('stream.session_inbox').where({ pipeline }).first('id');
    expect(queued).toBeUndefined();
    expect(sessionInputsApplied).toBeGreaterThan(report.byKind.insert_order);
  });

  it('keeps the late rows in the late ledger, and only them', async () => {
    const ledger = await warehouse('ops.late_events')
      .where({ pipeline })
      .whereIn(
        'group_key',
        currencies.map((currency) => JSON.stringify([currency])),
      )
      .distinct('primary_key');
    const ids = ledger.map((row) => JSON.parse(row.primary_key).id as string);
    expect(ids.length).toBeGreaterThan(0);
    const late = lateIds();
    expect(ids.filter((id) => !late.has(id))).toEqual([]);
  });

  it('dead-letters every poison row', async () => {
    const poison = report.ids.poison;
    const found = await waitFor(
      'every poison row in ops.dead_letters',
      async () => {
        const rows = await warehouse('ops.dead_letters')
          .whereRaw("convert_from(raw, 'UTF8')::jsonb->'after'->>'id' = ANY(?)", [poison])
          .select<{ id: string }[]>(
            warehouse.raw("convert_from(raw, 'UTF8')::jsonb->'after'->>'id' as id"),
          );
        return new Set(rows.map((row) => row.id)).size === poison.length ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(found.length).toBeGreaterThanOrEqual(poison.length);
  });
});
