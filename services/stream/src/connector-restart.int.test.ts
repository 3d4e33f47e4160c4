import { runLoad, type LoadReport } from '@tidemark/loadgen';
import { createDatabase, createKafka, loadConfig, silentLogger, waitFor } from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  endOffsets,
  startTestPipeline,
  waitTopicSettled,
  type TestPipeline,
} from '../../../test/integration/pipeline';
import { waitOrderValuesEqual } from '../../../test/integration/shop-values';
import { chooseStack, killAndRestart } from '../../../test/integration/stack';

// Kafka Connect killed with SIGKILL during a load and started again: Debezium sends again the
// changes after its last flushed offset. The pipeline must count each change once. The messages
// on the topics also show the property a per-partition high-water mark of Debezium's
// `source.sequence` would rely on (docs/stream-design.md): what Debezium sends again sorts at or
// below what its partition already held, and what sorts below was sent before. (Two changes
// can share a sequence: a primary-key update is a delete and a create from one WAL record.)

const config = loadConfig();
const source = createDatabase(config.source, 4);
const warehouse = createDatabase(config.warehouse, 4);
const pipeline = `connector-restart-${randomUUID()}`;
const kafka = createKafka(config, pipeline, silentLogger);
const prefix = config.kafka.topicPrefix;
const topics = new Map([
  ['shop.orders', `${prefix}.shop.orders`],
  ['shop.payments', `${prefix}.shop.payments`],
]);
const letters = () =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(Math.random() * 26))).join(
    '',
  );
const run = { currencies: [letters(), letters()], customerPrefix: pipeline };
let started: TestPipeline | undefined;
let report: LoadReport;
let duplicatesSkipped = 0;
const startMarks = new Map<string, Map<number, bigint>>();

beforeAll(async () => {
  for (const topic of topics.values()) startMarks.set(topic, await endOffsets(kafka, topic));
  started = await startTestPipeline({
    config,
    warehouse,
    name: pipeline,
    onBatch: (stats) => (duplicatesSkipped += stats.duplicates),
  });
  const load = runLoad(source, {
    ratePerSec: 600,
    durationMs: 14_000,
    seed: 20261206,
    ...run,
    customers: 40,
    updates: 0.2,
    deletes: 0.03,
    duplicates: 0,
    pkChanges: 0.01,
    payments: 0.2,
  });
  // Mid-load, with changes in flight whose offsets Debezium has not flushed yet.
  await sleep(4_000);
  await killAndRestart(chooseStack(), 'connect');
  report = await load;
}, 240_000);

afterAll(async () => {
  await started?.stopAndReset();
  await Promise.all([source.destroy(), warehouse.destroy()]);
});

interface SentChange {
  offset: bigint;
  /** Debezium's `source.sequence`: the last commit's LSN before this change, and its own. */
  sequence: [bigint, bigint];
  /** What identifies the change: its LSN, operation and row key. */
  identity: string;
}

/** The changes a topic's partitions hold from `from` to `until`, in offset order. */
async function sentChanges(
  reader: Kafka,
  topic: string,
  from: Map<number, bigint>,
  until: Map<number, bigint>,
): Promise<Map<number, SentChange[]>> {
  const byPartition = new Map<number, SentChange[]>();
  const remaining = new Set(
    [...until].filter(([p, end]) => end > (from.get(p) ?? 0n)).map(([p]) => p),
  );
  if (remaining.size === 0) return byPartition;
  const consumer = reader.consumer({ groupId: `${pipeline}-reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const offset = BigInt(message.offset);
      const end = until.get(partition) ?? 0n;
      if (offset < (from.get(partition) ?? 0n) || offset >= end) return;
      if (message.value) {
        const { op, before, after, source: origin } = JSON.parse(message.value.toString());
        const [lastCommit, lsn] = JSON.parse(origin.sequence) as [string | null, string | null];
        const row = (after ?? before) as { id?: string } | null;
        const list = byPartition.get(partition) ?? [];
        list.push({
          offset,
          sequence: [BigInt(lastCommit ?? 0), BigInt(lsn ?? origin.lsn)],
          identity: `${origin.lsn}/${op}/${row?.id}`,
        });
        byPartition.set(partition, list);
      }
      if (offset === end - 1n) {
        remaining.delete(partition);
        if (remaining.size === 0) done();
      }
    },
  });
  for (const [partition, offset] of from) {
    consumer.seek({ topic, partition, offset: offset.toString() });
  }
  await Promise.race([finished, sleep(60_000)]);
  await consumer.disconnect();
  expect(remaining.size, `partitions of ${topic} not read to their end`).toBe(0);
  return byPartition;
}

const sortsBelow = (a: [bigint, bigint], b: [bigint, bigint]) =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
const sameSequence = (a: [bigint, bigint], b: [bigint, bigint]) => a[0] === b[0] && a[1] === b[1];

describe('Kafka Connect killed -9 and restarted during a load', () => {
  it('ends with every change counted once', async () => {
    const compared = await waitOrderValuesEqual(source, warehouse, pipeline, run, {
      withLateLedger: true,
      timeoutMs: 120_000,
    });
    expect(compared.windows).toBeGreaterThan(0);
    expect(report.byKind.update_order).toBeGreaterThan(0);
  });

  it('received again only changes its partition already held, sorted at or below them', async () => {
    let resent = 0;
    for (const topic of topics.values()) {
      const from = startMarks.get(topic) ?? new Map();
      const until = await waitTopicSettled(kafka, topic, from, 1);
      for (const [partition, changes] of await sentChanges(kafka, topic, from, until)) {
        let highest: [bigint, bigint] | undefined;
        // The changes sent at exactly the highest sequence: a primary-key update is a delete
        // and a create sharing one (one WAL record), so a sequence alone is not a change.
        let atHighest = new Set<string>();
        const held = new Set<string>();
        for (const change of changes) {
          const where = `${topic}/${partition} offset ${change.offset}`;
          if (highest && sortsBelow(change.sequence, highest)) {
            resent += 1;
            expect(held.has(change.identity), `${where}: sorts below, never sent before`).toBe(
              true,
            );
          } else if (highest && sameSequence(change.sequence, highest)) {
            if (atHighest.has(change.identity)) resent += 1;
            atHighest.add(change.identity);
          } else {
            highest = change.sequence;
            atHighest = new Set([change.identity]);
          }
          held.add(change.identity);
        }
      }
    }
    // The restart did send changes again (else this test shows nothing), and the pipeline
    // skipped each of them.
    process.stderr.write(`[connector-restart] changes sent again: ${resent}\n`);
    expect(resent).toBeGreaterThan(0);
    await waitFor(
      'the pipeline to have skipped every change sent again',
      async () => (duplicatesSkipped >= resent ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch(() => undefined);
    expect(duplicatesSkipped).toBe(resent);
  });
});
