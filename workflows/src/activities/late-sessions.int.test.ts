import {
  currentContract,
  customerSessions,
  decodeChange,
  ordersPerMinute,
  type MetricDefinition,
} from '@tidemark/contracts';
import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import { replayDeadLetters } from '@tidemark/stream';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderInsertEnvelope } from '../../../test/integration/order-envelope';
import { startTestPipeline, type TestPipeline } from '../../../test/integration/pipeline';
import { createConsolidationActivities } from './consolidation';

// Late orders through the real stream, then the day consolidated and reconciled: orders that
// arrive after their sessions closed merge two provisional sessions of one customer and form a
// session of their own for another; an order moved after its minute closed leaves one window
// for another; a dead letter replayed after its session closed extends it. The late ledger
// records each late order by the session it alone would have
// made, so bounds-matching left the merged and formed sessions unexplained; replaying the
// ledger against the changelog's events explains every window. Windows are seconds long so
// that the test waits seconds, not minutes, for the watermark to close them.

const config = loadConfig();
const source = createDatabase(config.source, 2);
const sourceReader = createDatabase(config.sourceReader, 2);
const warehouse = createDatabase(config.warehouse, 4);
const pipeline = `late-sessions-${randomUUID()}`;
const SECOND = 1_000;
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );
const currency = letters();
const filter = [{ field: 'currency', op: 'eq', value: currency }] as const;
const SESSIONS: MetricDefinition = {
  ...customerSessions,
  name: `late_test_sessions_${currency.toLowerCase()}`,
  filter: [...filter],
  window: { kind: 'session', gapMs: 20 * SECOND },
  outOfOrdernessMs: SECOND,
  allowedLatenessMs: 20 * SECOND,
  emit: { kind: 'on_update' },
};
const PER_TEN_SECONDS: MetricDefinition = {
  ...ordersPerMinute,
  name: `late_test_per_10s_${currency.toLowerCase()}`,
  filter: [...filter],
  window: { kind: 'tumbling', sizeMs: 10 * SECOND },
  outOfOrdernessMs: SECOND,
  allowedLatenessMs: 5 * SECOND,
  emit: { kind: 'on_update' },
};
const METRICS = [SESSIONS, PER_TEN_SECONDS];
const customer = (name: string) => `${pipeline}-${name}`;
let started: TestPipeline | undefined;
let t0: number;
let movedId: string;
let deadLetterId: number | undefined;
const letteredId = randomUUID();

/**
 * A dead letter of an order of "lettered" at `createdAtMs`, as the pipeline would have stored it
 * under a stricter contract: a Debezium insert envelope the current contract accepts, on the
 * orders topic, at an LSN below what that partition has already applied.
 */
async function storeDeadLetter(createdAtMs: number, lsn: number): Promise<number> {
  const order = {
    id: letteredId,
    customer_id: customer('lettered'),
    amount_minor: 1_000,
    currency,
    status: 'paid',
    createdAtMs,
  };
  const [row] = await warehouse('ops.dead_letters')
    .insert({
      kafka_topic: `${config.kafka.topicPrefix}.shop.orders`,
      kafka_partition: 0,
      // Far beyond any real offset, so it names no message a pipeline read.
      kafka_offset: 900_000_000_000 + Math.floor(Math.random() * 1_000_000),
      code: 'CONTRACT_VIOLATION',
      path: 'after.channel',
      message: 'shop.orders v1: unrecognized key "channel"',
      issues: JSON.stringify([{ code: 'unrecognized_keys', path: 'after.channel', message: 'x' }]),
      raw: orderInsertEnvelope(order, lsn, 1),
    })
    .returning('id');
  if (!row) throw new Error('the dead letter was not inserted');
  return Number(row.id);
}

async function order(name: string, createdAtMs: number): Promise<string> {
  const [row] = await source('shop.orders')
    .insert({
      customer_id: customer(name),
      amount_minor: 1_000,
      currency,
      status: 'paid',
      created_at: new Date(createdAtMs),
    })
    .returning('id');
  return String(row.id);
}

/** Orders of another currency, now: they move the table's event clock and count nowhere here. */
async function tick(): Promise<void> {
  await source('shop.orders').insert({
    customer_id: customer('clock'),
    amount_minor: 1,
    currency: currency === 'AAA' ? 'AAB' : 'AAA',
    status: 'paid',
  });
}

beforeAll(async () => {
  // Every event of the test in one UTC day: not in the two minutes after midnight.
  const sinceMidnight = Date.now() % (24 * 60 * 60 * SECOND);
  if (sinceMidnight < 2 * 60 * SECOND) await sleep(2 * 60 * SECOND - sinceMidnight);
  started = await startTestPipeline({ config, warehouse, name: pipeline, metrics: METRICS });
  const { stream } = started;
  t0 = Date.now();

  // On time: two sessions of "merged" 25 s apart (more than the 20 s gap), one order now.
  await order('merged', t0 - 30 * SECOND);
  await order('merged', t0 - 5 * SECOND);
  movedId = await order('moved', t0 - 2 * SECOND);
  const lettered = await order('lettered', t0 - 30 * SECOND);
  await waitFor(
    'the provisional sessions',
    async () => {
      const rows = await warehouse('provisional.metric_values').where({
        pipeline,
        metric: SESSIONS.name,
      });
      return rows.length >= 2 || undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );

  // The dead letter's order would have extended the session of "lettered" (10:00 + 5 s).
  await started.waitLanded('shop.orders', [lettered], 1);
  const [landed] = await warehouse('raw.change_events')
    .where({ source_table: 'shop.orders' })
    .whereRaw('primary_key = ?::jsonb', [JSON.stringify({ id: lettered })])
    .select('lsn');
  deadLetterId = await storeDeadLetter(t0 - 25 * SECOND, Number(landed.lsn) - 1);

  // Every window above closed: the last session ends at t0 + 15 s, plus 20 s of lateness.
  await waitFor(
    'the watermark to close the sessions',
    async () => {
      await tick();
      return (stream.watermarks().get(SESSIONS.name) ?? 0) >= t0 + 40 * SECOND || undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1_000 },
  );

  // Late: an order between the two sessions; three orders of a customer with no session; the
  // order of now moved 38 seconds back; an order in a closed window of ten seconds.
  await order('merged', t0 - 18 * SECOND);
  for (const offset of [60, 55, 50]) await order('formed', t0 - offset * SECOND);
  await source('shop.orders')
    .where({ id: movedId })
    .update({ created_at: new Date(t0 - 40 * SECOND) });
  await order('fresh', t0 - 33 * SECOND);
  const kafka = createKafka(config, `${pipeline}-replay`, silentLogger);
  const producer = kafka.producer();
  await producer.connect();
  try {
    const replay = await replayDeadLetters({
      warehouse,
      producer,
      decode: (raw) => decodeChange(raw, currentContract),
      filter: { ids: [deadLetterId] },
    });
    expect(replay.replayed.map((item) => item.id)).toEqual([deadLetterId]);
  } finally {
    await producer.disconnect();
  }
  await started.waitLanded('shop.orders', [movedId], 2);
  await started.waitLanded('shop.orders', [letteredId], 1);
  await waitFor(
    'the late ledger',
    async () => {
      const [row] = await warehouse('ops.late_events')
        .where({ pipeline })
        .count<{ n: string }[]>({ n: '*' });
      // Sessions: 1 + 3 late orders, the move's two contributions and the dead letter; ten
      // seconds: the same move's two, the fresh order and the dead letter.
      return Number(row?.n ?? 0) >= 11 || undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}, 240_000);

afterAll(async () => {
  await started?.stopAndReset();
  if (deadLetterId)
    await warehouse('ops.dead_letters')
      .where({ id: String(deadLetterId) })
      .delete();
  await Promise.all([source.destroy(), sourceReader.destroy(), warehouse.destroy()]);
});

describe('a day with late orders, reconciled', () => {
  it('explains every window by the late orders and the dead letter that merged, formed, extended or moved it', async () => {
    const activities = createConsolidationActivities({
      warehouse,
      source: sourceReader,
      pipeline,
      metrics: METRICS,
    });
    const runId = `late-sessions-${randomUUID()}`;
    const run = await activities.startConsolidation({
      runId,
      workflowId: runId,
      day: new Date(t0).toISOString().slice(0, 10),
      asOf: new Date().toISOString(),
      reason: 'late sessions test',
      metrics: METRICS.map((metric) => metric.name),
    });
    await activities.computeFinalValues(run);
    const counts = await activities.reconcile(run);
    const rows = await warehouse('audit.reconciliation')
      .where({ run_id: runId })
      .orderBy(['metric', 'window_start', 'window_end'])
      .select('metric', 'window_start', 'window_end', 'key_values', 'cause', 'explanation');
    const shown = rows.map((row) => ({
      metric: row.metric === SESSIONS.name ? 'sessions' : 'per 10 s',
      key: String((row.key_values as string[])[0]).replace(`${pipeline}-`, ''),
      from: (new Date(row.window_start).getTime() - t0) / SECOND,
      to: (new Date(row.window_end).getTime() - t0) / SECOND,
      cause: row.cause,
      explanation: row.explanation,
    }));
    expect(counts.unexplained, JSON.stringify(shown, null, 1)).toBe(0);
    expect(counts.unobserved).toBe(0);

    const sessions = shown.filter((row) => row.metric === 'sessions');
    const late = '1 late change of shop.orders (+1)';
    expect(sessions.filter((row) => row.key === 'merged')).toEqual([
      expect.objectContaining({
        from: -30,
        to: -10,
        explanation: `provisional session replaced by ${late}`,
      }),
      expect.objectContaining({
        from: -30,
        to: 15,
        explanation: `session merged from 2 provisional by ${late}`,
      }),
      expect.objectContaining({
        from: -5,
        to: 15,
        explanation: `provisional session replaced by ${late}`,
      }),
    ]);
    expect(sessions.filter((row) => row.key === 'formed')).toEqual([
      {
        metric: 'sessions',
        key: 'formed',
        from: -60,
        to: -30,
        cause: 'late_beyond_lateness',
        explanation: 'session formed by 3 late changes of shop.orders (+3)',
      },
    ]);
    // The moved order: out of its session and window as a change after close, into another.
    expect(sessions.filter((row) => row.key === 'moved').map((row) => row.cause)).toEqual([
      'changed_after_close',
      'changed_after_close',
    ]);
    // The replayed dead letter extended the session of "lettered", after it had closed.
    expect(sessions.filter((row) => row.key === 'lettered')).toEqual([
      expect.objectContaining({ from: -30, to: -10, cause: 'dead_lettered' }),
      expect.objectContaining({
        from: -30,
        to: -5,
        cause: 'dead_lettered',
        explanation: 'session extended by 1 replayed dead letter of shop.orders (+1)',
      }),
    ]);
    const windows = shown.filter((row) => row.metric === 'per 10 s' && row.cause !== 'exact');
    expect(windows.map((row) => row.cause)).toEqual(
      expect.arrayContaining(['changed_after_close', 'late_beyond_lateness']),
    );
    expect(windows.map((row) => row.explanation).join('\n')).toContain('replayed dead letter');
    expect(windows.map((row) => row.explanation)).toContain(
      '1 change after close of shop.orders (−1)',
    );
  });
});
