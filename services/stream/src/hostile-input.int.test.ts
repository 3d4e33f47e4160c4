import { METRICS } from '@tidemark/contracts';
import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import type { Admin, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { contentsFrom } from './batch-decoding';
import { decodeOne, mutatedMessage } from './hostile-messages.fixture';
import { writeLandingBatch } from './landing-sink';
import { startStreamPipeline } from './metrics-pipeline';
import type { StreamPipeline } from './pipeline-options';
import { resetPipeline } from './pipeline-reset';

// Every hostile input of issue 18, produced onto real topics between good orders, is consumed by
// a real pipeline: each becomes a dead letter naming what is wrong, and the good orders around
// them are counted. The topics are this run's own, mapped to the shop's tables, so no other
// pipeline reads the garbage.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 4);
const run = randomUUID().slice(0, 8);
const kafka = createKafka(config, `hostile-input-int-${run}`, silentLogger);
const prefix = `${config.kafka.topicPrefix}.hostile-${run}`;
const ORDERS_TOPIC = `${prefix}.shop.orders`;
const PAYMENTS_TOPIC = `${prefix}.shop.payments`;
const HEARTBEAT_TOPIC = `${prefix}.heartbeat`;
const DLQ_TOPIC = `${prefix}.dlq`;
const pipeline = `hostile-input-${run}`;
const currency = `Q${String.fromCharCode(65 + Math.floor(Math.random() * 26))}${String.fromCharCode(65 + Math.floor(Math.random() * 26))}`;
const REFUSED_CUSTOMER = `refused-by-warehouse-${run}`;
const REJECT_FUNCTION = `raw.hostile_reject_${run}`;
let admin: Admin;
let producer: Producer;
let stream: StreamPipeline | undefined;
let lsn = 900_000_000;

function order(overrides: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    customer_id: `hostile-${run}`,
    amount_minor: 1000,
    currency,
    status: 'paid',
    created_at: now,
    updated_at: now,
    channel: 'web',
    ...overrides,
  };
}

function envelope(table: string, after: Record<string, unknown>, overrides = {}) {
  lsn += 100;
  return {
    before: null,
    after,
    source: { schema: 'shop', table, ts_ms: Date.now(), lsn, txId: lsn },
    op: 'c',
    ts_ms: Date.now(),
    ...overrides,
  };
}

function payment(overrides: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    order_id: randomUUID(),
    amount_minor: 1000,
    currency,
    method: 'card',
    status: 'captured',
    fee: null,
    settled_on: null,
    gateway_response: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

/** A payment with an embedded Connect schema declaring its fee with this Decimal encoding. */
function paymentWithFeeSchema(feeSchema: Record<string, unknown>, fee: unknown) {
  return {
    schema: {
      type: 'struct',
      fields: [
        { field: 'after', type: 'struct', fields: [{ field: 'fee', type: 'bytes', ...feeSchema }] },
      ],
    },
    payload: envelope('payments', payment({ fee })),
  };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

/** Each hostile input, where it goes, and the dead letter it must become. */
const HOSTILE: { name: string; topic: string; value: Buffer; code: string; path: RegExp }[] = [
  {
    name: 'embedded schema whose fields is not an array',
    topic: ORDERS_TOPIC,
    value: Buffer.from('{"schema":{"fields":1},"payload":null}'),
    code: 'DECODE_FAILED',
    path: /^schema\.fields$/,
  },
  {
    name: 'VariableScaleDecimal whose value is a number',
    topic: PAYMENTS_TOPIC,
    value: json(paymentWithFeeSchema({ name: 'io.debezium.data.VariableScaleDecimal' }, 1)),
    code: 'DECODE_FAILED',
    path: /^after\.fee$/,
  },
  {
    name: 'Decimal with a huge scale',
    topic: PAYMENTS_TOPIC,
    value: json(
      paymentWithFeeSchema(
        { name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '99999999' } },
        'AQ==',
      ),
    ),
    code: 'DECODE_FAILED',
    path: /^after\.fee$/,
  },
  {
    name: 'base64 decimal of 700 KB',
    topic: PAYMENTS_TOPIC,
    value: json(
      paymentWithFeeSchema(
        { name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } },
        Buffer.alloc(700_000, 0x7f).toString('base64'),
      ),
    ),
    code: 'DECODE_FAILED',
    path: /^after\.fee$/,
  },
  {
    name: 'date far out of range',
    topic: PAYMENTS_TOPIC,
    value: json(envelope('payments', payment({ settled_on: 100_000_001 }))),
    code: 'CONTRACT_VIOLATION',
    path: /^after\.settled_on$/,
  },
  {
    name: 'source.ts_ms of 2^53-1',
    topic: ORDERS_TOPIC,
    value: json(
      envelope('orders', order(), {
        source: { schema: 'shop', table: 'orders', ts_ms: 2 ** 53 - 1, lsn: 1, txId: 1 },
      }),
    ),
    code: 'IMPLAUSIBLE',
    path: /^source\.ts_ms$/,
  },
  {
    name: 'commit time in year 10000',
    topic: ORDERS_TOPIC,
    value: json(
      envelope('orders', order(), {
        source: { schema: 'shop', table: 'orders', ts_ms: 253_402_300_800_000, lsn: 1, txId: 1 },
      }),
    ),
    code: 'IMPLAUSIBLE',
    path: /^source\.ts_ms$/,
  },
  {
    name: 'bad top-level ts_ms',
    topic: ORDERS_TOPIC,
    value: json(envelope('orders', order(), { ts_ms: -5 })),
    code: 'IMPLAUSIBLE',
    path: /^ts_ms$/,
  },
  {
    name: 'customer_id of U+0000',
    topic: ORDERS_TOPIC,
    value: json(envelope('orders', order({ customer_id: '\u0000' }))),
    code: 'CONTRACT_VIOLATION',
    path: /^after\.customer_id$/,
  },
  {
    name: 'bytes with 0x00 that are not JSON',
    topic: ORDERS_TOPIC,
    value: Buffer.from([0x00, 0x7b, 0x00, 0x22]),
    code: 'NOT_JSON',
    path: /^\$$/,
  },
  {
    name: 'JSON nested very deeply',
    topic: ORDERS_TOPIC,
    value: Buffer.from(
      JSON.stringify(envelope('orders', order())).replace(
        '"op":"c"',
        `"x":${deep(50_000)},"op":"c"`,
      ),
    ),
    code: 'DECODE_FAILED',
    path: /^x/,
  },
  {
    name: 'truncate of a table whose contract does not allow it',
    topic: ORDERS_TOPIC,
    value: json({ ...envelope('orders', order()), op: 't', after: null }),
    code: 'TRUNCATE_NOT_ALLOWED',
    path: /^op$/,
  },
  {
    name: "source.table other than the topic's",
    topic: ORDERS_TOPIC,
    value: json(envelope('payments', payment())),
    code: 'TABLE_MISMATCH',
    path: /^source\.table$/,
  },
  {
    name: 'unknown table',
    topic: ORDERS_TOPIC,
    value: json(envelope('refunds', { id: randomUUID() })),
    code: 'TABLE_MISMATCH',
    path: /^source\.table$/,
  },
  {
    name: 'LSN of 2^53-1',
    topic: ORDERS_TOPIC,
    value: json(
      envelope('orders', order(), {
        source: { schema: 'shop', table: 'orders', ts_ms: Date.now(), lsn: 2 ** 53 - 1, txId: 1 },
      }),
    ),
    code: 'IMPLAUSIBLE',
    path: /^source\.lsn$/,
  },
  {
    name: 'created_at in year 9999',
    topic: ORDERS_TOPIC,
    value: json(envelope('orders', order({ created_at: '9999-12-31T23:59:59Z' }))),
    code: 'IMPLAUSIBLE',
    path: /^after\.created_at$/,
  },
  {
    name: 'not JSON',
    topic: ORDERS_TOPIC,
    value: Buffer.from('{"op": "c",'),
    code: 'NOT_JSON',
    path: /^\$$/,
  },
  {
    name: 'a message of several MB',
    topic: ORDERS_TOPIC,
    value: json(envelope('orders', order({ customer_id: 'x'.repeat(3_000_000) }))),
    code: 'DECODE_FAILED',
    path: /^\$$/,
  },
  {
    name: 'a row the warehouse refuses (a trigger standing for any constraint)',
    topic: ORDERS_TOPIC,
    value: json(envelope('orders', order({ customer_id: REFUSED_CUSTOMER }))),
    code: 'SINK_REJECTED',
    path: /^\$$/,
  },
];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      // The change topics take messages of several MB; the DLQ topic keeps Kafka's default.
      ...[ORDERS_TOPIC, PAYMENTS_TOPIC].map((topic) => ({
        topic,
        numPartitions: 1,
        configEntries: [{ name: 'max.message.bytes', value: String(8 * 1024 * 1024) }],
      })),
      { topic: HEARTBEAT_TOPIC, numPartitions: 1 },
      { topic: DLQ_TOPIC, numPartitions: 1 },
    ],
  });
  producer = kafka.producer();
  await producer.connect();
  // Stands for any rule of the warehouse a row can break that decoding does not know about.
  await warehouse.raw(`
    CREATE FUNCTION ${REJECT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'customer % is refused', NEW.after->>'customer_id'
        USING ERRCODE = 'check_violation';
    END $$`);
  await warehouse.raw(`
    CREATE TRIGGER hostile_reject_${run} BEFORE INSERT ON raw.change_events FOR EACH ROW
      WHEN (NEW.after->>'customer_id' = '${REFUSED_CUSTOMER}') EXECUTE FUNCTION ${REJECT_FUNCTION}()`);
});

afterAll(async () => {
  await stream?.stop();
  await warehouse.raw(`DROP TRIGGER IF EXISTS hostile_reject_${run} ON raw.change_events`);
  await warehouse.raw(`DROP FUNCTION IF EXISTS ${REJECT_FUNCTION}()`);
  await resetPipeline(warehouse, kafka, pipeline).catch(() => undefined);
  await warehouse('ops.dead_letters').whereLike('kafka_topic', `${prefix}.%`).delete();
  await warehouse('raw.change_events').whereLike('kafka_topic', `${prefix}.%`).delete();
  await admin
    .deleteTopics({ topics: [ORDERS_TOPIC, PAYMENTS_TOPIC, HEARTBEAT_TOPIC, DLQ_TOPIC] })
    .catch(() => undefined);
  await producer?.disconnect();
  await admin?.disconnect();
  await warehouse.destroy();
});

/** The first `count` messages of a topic, with their headers as text. */
async function readTopic(
  topic: string,
  count: number,
): Promise<{ value: Buffer; headers: Record<string, string> }[]> {
  const consumer = kafka.consumer({ groupId: `${pipeline}-dlq-reader` });
  const read: { value: Buffer; headers: Record<string, string> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        );
        read.push({ value: message.value ?? Buffer.alloc(0), headers });
      },
    });
    return await waitFor(
      `${count} messages on ${topic}`,
      async () => (read.length >= count ? read : undefined),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  } finally {
    await consumer.disconnect();
  }
}

describe('hostile input on the live stack', () => {
  it('dead-letters every hostile input with its reason while the good orders keep flowing', async () => {
    const good = async (count: number) => {
      const orders = Array.from({ length: count }, () => order());
      await producer.send({
        topic: ORDERS_TOPIC,
        messages: orders.map((row) => ({
          key: JSON.stringify({ id: row.id }),
          value: json(envelope('orders', row)),
        })),
      });
      return orders;
    };
    stream = await startStreamPipeline({
      kafka,
      warehouse,
      logger: silentLogger,
      pipeline,
      topics: new Map([
        ['shop.orders', ORDERS_TOPIC],
        ['shop.payments', PAYMENTS_TOPIC],
      ]),
      heartbeatTopic: HEARTBEAT_TOPIC,
      deadLetterTopic: DLQ_TOPIC,
      metrics: METRICS,
      startAt: 'earliest',
      idleTimeoutMs: 1_000,
      tickMs: 250,
    });
    await stream.joined;

    const goodOrders = await good(3);
    const placed: ((typeof HOSTILE)[number] & { offset: string })[] = [];
    for (const input of HOSTILE) {
      const [sent] = await producer.send({
        topic: input.topic,
        messages: [{ value: input.value }],
      });
      placed.push({ ...input, offset: sent?.baseOffset ?? '?' });
    }
    // A heartbeat from a day and a half ahead is not believed as the source's clock.
    await producer.send({
      topic: HEARTBEAT_TOPIC,
      messages: [{ value: json({ ts_ms: Date.now() + 36 * 3_600_000 }) }],
    });
    goodOrders.push(...(await good(3)));

    const deadLetters = await waitFor(
      `${HOSTILE.length} dead letters of pipeline ${pipeline}`,
      async () => {
        const rows = await warehouse('ops.dead_letters')
          .whereIn('kafka_topic', [ORDERS_TOPIC, PAYMENTS_TOPIC])
          .select('kafka_topic', 'kafka_offset', 'code', 'path', 'message', 'raw');
        return rows.length >= HOSTILE.length ? rows : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    for (const input of placed) {
      const letter = deadLetters.find(
        (row) => row.kafka_topic === input.topic && String(row.kafka_offset) === input.offset,
      );
      expect(letter, input.name).toBeDefined();
      expect({ input: input.name, code: letter?.code }).toEqual({
        input: input.name,
        code: input.code,
      });
      expect(letter?.path, input.name).toMatch(input.path);
      expect(letter?.message.length, input.name).toBeGreaterThan(0);
      // Nothing lost: the raw bytes are kept whole.
      expect(Buffer.compare(letter?.raw as Buffer, input.value), input.name).toBe(0);
    }

    // The DLQ topic has them all too; the one larger than it takes, cut, with its full length.
    const published = await readTopic(DLQ_TOPIC, HOSTILE.length);
    const large = HOSTILE.find((input) => input.name === 'a message of several MB');
    const cut = published.find(
      (message) => message.headers['tidemark-raw-bytes'] === String(large?.value.length),
    );
    expect(cut?.value.length).toBeLessThan(1_000_000);
    expect(cut?.headers['tidemark-code']).toBe('DECODE_FAILED');

    // The good orders on either side of the garbage are landed and counted, none of the rest.
    const counted = await waitFor(
      `the ${goodOrders.length} good orders counted`,
      async () => {
        const rows = await warehouse('provisional.metric_values')
          .where({ pipeline, metric: 'orders_per_minute', group_key: JSON.stringify([currency]) })
          .select('accumulator');
        const total = rows.reduce((sum, row) => sum + Number(row.accumulator?.rows ?? 0), 0);
        return total === goodOrders.length ? total : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(counted).toBe(goodOrders.length);
    const landed = await warehouse('raw.change_events')
      .where({ kafka_topic: ORDERS_TOPIC })
      .select('primary_key');
    expect(landed.map((row) => row.primary_key.id).sort()).toEqual(
      goodOrders.map((row) => row.id).sort(),
    );
    expect(stream.health()).toEqual({ consuming: true });
    for (const watermark of stream.watermarks().values()) {
      expect(watermark ?? 0).toBeLessThan(Date.now() + 60_000);
    }
  });

  it('says so when its consumer crashes for good, rather than stay up consuming nothing', async () => {
    const crashing = await startStreamPipeline({
      kafka,
      warehouse,
      logger: silentLogger,
      pipeline: `${pipeline}-crash`,
      topics: new Map([['shop.orders', ORDERS_TOPIC]]),
      metrics: METRICS,
      startAt: 'earliest',
      tickMs: 250,
      // A defect after a batch commits: kafkajs does not restart a consumer for a TypeError.
      onBatch: () => {
        throw new TypeError('a defect in the batch callback');
      },
    });
    try {
      const failure = await Promise.race([
        crashing.failed,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 60_000)),
      ]);
      expect(String(failure)).toContain('a defect in the batch callback');
      expect(crashing.health()).toMatchObject({
        consuming: false,
        reason: expect.stringContaining('crashed'),
      });
    } finally {
      await crashing.stop();
      await resetPipeline(warehouse, kafka, `${pipeline}-crash`).catch(() => undefined);
    }
  });

  it('stores what decoding makes of a thousand mutated envelopes: PostgreSQL takes every row', async () => {
    const decoded = fc
      .sample(mutatedMessage, { numRuns: 1_000, seed: 18 })
      .map(({ topic, value }, index) => {
        const one = decodeOne(topic, value);
        // Each its own position on this run's topic: dead letters are unique by position.
        if (one.kind === 'dead_letter') {
          Object.assign(one.deadLetter, {
            kafka_topic: `${prefix}.fuzz`,
            kafka_offset: `${index}`,
          });
        }
        if (one.kind === 'change') {
          Object.assign(one.landed, { kafka_topic: `${prefix}.fuzz`, kafka_offset: `${index}` });
        }
        return one;
      });
    const { landed, deadLetters, commitDays } = contentsFrom(decoded, undefined, undefined);
    expect(landed.length).toBeGreaterThan(20);
    expect(deadLetters.length).toBeGreaterThan(500);
    const stored = await warehouse
      .transaction(async (trx) => {
        await trx.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [commitDays]);
        const written = await writeLandingBatch(trx, landed, deadLetters);
        // Only whether PostgreSQL takes them: nothing of this stays.
        throw Object.assign(new Error('rollback'), { written });
      })
      .catch((error: { written?: unknown }) => {
        if (!error.written) throw error;
        return error.written;
      });
    expect(stored).toMatchObject({ landed: expect.any(Number), deadLettered: deadLetters.length });
  });
});
