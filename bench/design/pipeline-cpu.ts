// The pipeline's own CPU per change on stream v2's batch path, without the warehouse
// (docs/stream-design.md, "what must be measured"): the same messages of the change topics are
// read by a fresh consumer group in passes that each do one step more than the last — count,
// decode and check, plan into the partition's in-memory partials, encode the changelog rows as
// COPY text — and the process's CPU per message is reported for each.
// Run on a quiet machine with the stack up, after a bench: npx tsx bench/design/pipeline-cpu.ts
import { currentContract, METRICS, type MetricDefinition } from '@tidemark/contracts';
import { createKafka, loadConfig, silentLogger } from '@tidemark/runtime';
import {
  changelogCopyText,
  contentsFrom,
  DEFAULT_MAX_BYTES_PER_PARTITION,
  DEFAULT_PLAUSIBLE_TIMES,
  decodeBatch,
  LsnHorizon,
  planBatch,
} from '@tidemark/stream';
import type { Kafka } from 'kafkajs';
import { lastMessages, tablesByTopic } from './change-topics';

const STEPS = ['fetch', 'decode', 'plan', 'encode'] as const;
type Step = (typeof STEPS)[number];
const MESSAGES = Number(process.env.MESSAGES ?? 150_000);

const config = loadConfig();
const kafka = createKafka(config, 'design-pipeline-cpu', silentLogger);
const topics = await tablesByTopic(config);
const metricsOf = (table: string): readonly MetricDefinition[] =>
  METRICS.filter((metric) => metric.source.table === table);

/** Where each partition's last MESSAGES / partitions messages start. */
async function rangeStarts(): Promise<Map<string, bigint>> {
  const ranges = await lastMessages(kafka, [...topics.keys()], MESSAGES);
  return new Map([...ranges].map(([key, { from }]) => [key, from]));
}

async function pass(step: Step, starts: Map<string, bigint>, kafka: Kafka): Promise<string> {
  const upTo = STEPS.indexOf(step);
  const partials = new Map<string, unknown>();
  const sessions = new Map();
  const horizons = new Map<string, LsnHorizon>();
  let messages = 0;
  let bytes = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const consumer = kafka.consumer({
    groupId: `design-pipeline-cpu-${step}-${Date.now()}`,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: DEFAULT_MAX_BYTES_PER_PARTITION,
    maxBytes: 4 * DEFAULT_MAX_BYTES_PER_PARTITION,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics.keys()], fromBeginning: false });
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      cpuAtStart ??= process.cpuUsage();
      const key = `${batch.topic}/${batch.partition}`;
      const table = topics.get(batch.topic) as string;
      messages += batch.messages.length;
      if (upTo >= 1) {
        const horizon = horizons.get(key) ?? new LsnHorizon(undefined);
        horizons.set(key, horizon);
        const decoded = decodeBatch(batch.topic, batch.partition, batch.messages, {
          table,
          contractOf: currentContract,
          lsnHorizon: horizon,
          plausibleTimes: DEFAULT_PLAUSIBLE_TIMES,
          maxMessageBytes: 1_048_576,
          nowMs: Date.now(),
        });
        const { changes, landed } = contentsFrom(decoded, undefined, undefined);
        if (upTo >= 2) {
          const plan = planBatch(changes, metricsOf, {
            rowVersions: new Map(),
            sessions,
            watermarks: new Map(),
          });
          for (const delta of plan.windowDeltas) {
            partials.set(
              `${delta.metric.name}/${delta.window.startMs}/${delta.groupKey}`,
              delta.delta,
            );
          }
          for (const change of plan.sessionChanges) {
            sessions.set(`${change.metric.name}\u0000${change.groupKey}`, change.state);
          }
        }
        if (upTo >= 3) bytes += changelogCopyText(landed).length;
      }
      if (messages >= MESSAGES) finish();
    },
  });
  for (const [key, offset] of starts) {
    const [topic, partition] = key.split('/') as [string, string];
    consumer.seek({ topic, partition: Number(partition), offset: offset.toString() });
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, 120_000)))]);
  clearTimeout(timer);
  const used = process.cpuUsage(cpuAtStart);
  await consumer.disconnect();
  const perMessage = (used.user + used.system) / messages;
  return `${step.padEnd(8)} ${messages} messages  ${perMessage.toFixed(1)} us CPU per message${upTo >= 3 ? `  (${(bytes / 1e6).toFixed(0)} MB of COPY text)` : ''}`;
}

const starts = await rangeStarts();
const only = process.env.STEP as Step | undefined;
for (const step of STEPS.filter((candidate) => !only || candidate === only)) {
  process.stdout.write(`${await pass(step, starts, kafka)}\n`);
}
