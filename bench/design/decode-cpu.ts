// The pipeline's CPU per message for decoding a batch and encoding its changelog rows, without
// Kafka's fetch or the warehouse in the measurement (docs/stream-design.md, "the pipeline's 30
// µs"): the last MESSAGES messages of the change topics are read once into memory, then decoded
// ROUNDS times in the stream's batches of up to 4,800, step by step: JSON.parse alone, the whole
// decoding (`decodeBatch`, `contentsFrom`), and the COPY text of the changes. Steady and quick
// enough to compare two versions of the decoder back to back; pipeline-cpu.ts measures the
// same steps behind a real fetch.
// Run with the stack up, after a bench: npx tsx bench/design/decode-cpu.ts
import { currentContract } from '@tidemark/contracts';
import { createKafka, loadConfig, silentLogger } from '@tidemark/runtime';
import {
  changelogCopyText,
  contentsFrom,
  decodeBatch,
  DEFAULT_PLAUSIBLE_TIMES,
  LsnHorizon,
  type BatchMessage,
} from '@tidemark/stream';
import { lastMessages, tablesByTopic } from './change-topics';

const MESSAGES = Number(process.env.MESSAGES ?? 40_000);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const BATCH = 4_800;

const config = loadConfig();
const kafka = createKafka(config, 'design-decode-cpu', silentLogger);
const tables = await tablesByTopic(config);

interface Fetched {
  topic: string;
  partition: number;
  messages: BatchMessage[];
}

/** The last MESSAGES messages of the change topics, by partition, in batches of up to BATCH. */
async function fetchMessages(): Promise<Fetched[]> {
  const wanted = await lastMessages(kafka, [...tables.keys()], MESSAGES);
  const byPartition = new Map<string, BatchMessage[]>();
  const consumer = kafka.consumer({ groupId: `design-decode-cpu-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [...tables.keys()], fromBeginning: false });
  let left = [...wanted.values()].reduce((sum, { from, to }) => sum + Number(to - from), 0);
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const key = `${batch.topic}/${batch.partition}`;
      const to = wanted.get(key)?.to ?? 0n;
      const kept = byPartition.get(key) ?? [];
      byPartition.set(key, kept);
      for (const message of batch.messages) {
        if (BigInt(message.offset) >= to) continue;
        kept.push({ offset: message.offset, timestamp: message.timestamp, value: message.value });
        left -= 1;
      }
      if (left <= 0) done();
    },
  });
  for (const [key, { from }] of wanted) {
    const [topic, partition] = key.split('/') as [string, string];
    consumer.seek({ topic, partition: Number(partition), offset: from.toString() });
  }
  await finished;
  await consumer.disconnect();
  const fetched: Fetched[] = [];
  for (const [key, messages] of byPartition) {
    const [topic, partition] = key.split('/') as [string, string];
    for (let at = 0; at < messages.length; at += BATCH) {
      fetched.push({
        topic,
        partition: Number(partition),
        messages: messages.slice(at, at + BATCH),
      });
    }
  }
  return fetched;
}

/** CPU µs per message of `step` over every batch, ROUNDS times. */
function measure(batches: readonly Fetched[], step: (batch: Fetched) => number): string {
  const messages = batches.reduce((sum, batch) => sum + batch.messages.length, 0);
  let sink = 0;
  for (const batch of batches) sink += step(batch); // warm-up round
  const start = process.cpuUsage();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const batch of batches) sink += step(batch);
  }
  const used = process.cpuUsage(start);
  const perMessage = (used.user + used.system) / (messages * ROUNDS);
  return `${perMessage.toFixed(2)} µs per message (${messages} messages × ${ROUNDS}; ${sink > 0 ? 'ok' : 'nothing'})`;
}

function decoded(batch: Fetched) {
  return decodeBatch(batch.topic, batch.partition, batch.messages, {
    table: tables.get(batch.topic) as string,
    contractOf: currentContract,
    lsnHorizon: new LsnHorizon(undefined),
    plausibleTimes: DEFAULT_PLAUSIBLE_TIMES,
    maxMessageBytes: 1_048_576,
    nowMs: Date.now(),
  });
}

const batches = await fetchMessages();
const steps: [string, (batch: Fetched) => number][] = [
  [
    'JSON.parse',
    (batch) => batch.messages.filter((m) => m.value && JSON.parse(String(m.value))).length,
  ],
  ['decode', (batch) => contentsFrom(decoded(batch), undefined, undefined).changes.length],
  [
    'decode + COPY text',
    (batch) => changelogCopyText(contentsFrom(decoded(batch), undefined, undefined).landed).length,
  ],
];
for (const [name, step] of steps)
  process.stdout.write(`${name.padEnd(20)} ${measure(batches, step)}\n`);
