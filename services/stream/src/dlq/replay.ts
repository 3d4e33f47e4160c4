import { currentContract } from '@tidemark/contracts';
import type { Producer } from 'kafkajs';
import type { Knex } from 'knex';
import {
  describeReplayFailure,
  planReplay,
  type DeadLetterIssue,
  type DeadLetterRecord,
  type ReplayDecision,
  type ReplayValidator,
} from './replay-plan';

/** Which dead letters a replay looks at; without a filter, every one not replayed yet. */
export interface ReplayFilter {
  /** Only dead letters received at or after this time. */
  since?: Date;
  /** Only these dead letters. */
  ids?: readonly number[];
}

export interface ReplayOptions {
  warehouse: Knex;
  /** A connected kafkajs producer; replay neither connects nor disconnects it. */
  producer: Producer;
  /** Decodes and validates a message value under the current contracts, as from its topic. */
  decode: ReplayValidator['decode'];
  /** Why a decoded change cannot be true now; such dead letters are left as they are. */
  implausible?: ReplayValidator['implausible'];
  /** Primary-key columns of a table, for the re-injected message's key (current contracts by default). */
  keyFields?: (table: string) => readonly string[] | undefined;
  filter?: ReplayFilter;
  /** Decide and report, but produce nothing and change no row. */
  dryRun?: boolean;
  /** Dead letters per warehouse transaction. */
  batchSize?: number;
}

/** Where a dead letter was read from Kafka. */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
}

export const REPLAY_SKIP_REASONS = [
  'already_replayed',
  'locked',
  'not_found',
  'received_before_since',
  'not_a_change',
] as const;
export type ReplaySkipReason = (typeof REPLAY_SKIP_REASONS)[number];

/** What a replay did (or, in a dry run, would do). */
export interface ReplayReport {
  dryRun: boolean;
  /** Dead letters not replayed before that this run took and re-validated. */
  considered: number;
  replayed: {
    id: number;
    source: DeadLetterSource;
    topic: string;
    partition: number;
    key: string | null;
  }[];
  stillFailing: {
    id: number;
    source: DeadLetterSource;
    code: string;
    path: string;
    message: string;
    issues: DeadLetterIssue[];
  }[];
  /** Passed validation, but producing them failed; they stay unreplayed for the next run. */
  failed: { id: number; source: DeadLetterSource; topic: string; error: string }[];
  skipped: { id: number; source?: DeadLetterSource; reason: ReplaySkipReason; detail: string }[];
}

interface DeadLetterRow {
  id: string | number;
  raw: Buffer | null;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: string | number;
  received_at: Date;
}

const DEFAULT_BATCH_SIZE = 500;

/**
 * Re-validates the dead letters not replayed yet against the current contracts and re-injects
 * those that now pass, as their original bytes, onto their original topic and partition. Each
 * batch is one warehouse transaction: its rows are locked (FOR UPDATE SKIP LOCKED, so two
 * replays never take the same row), the passing ones produced, and only once Kafka acknowledged
 * them are they marked replayed. A replay interrupted after producing but before committing
 * re-injects those changes again next time; the pipeline deduplicates them by (table, primary
 * key, LSN), so each is applied at most once.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayReport> {
  const { warehouse, producer, filter = {} } = options;
  const dryRun = options.dryRun ?? false;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const validator = {
    decode: options.decode,
    implausible: options.implausible,
    keyFields: options.keyFields ?? ((table: string) => currentContract(table)?.primaryKey),
  };
  const report: ReplayReport = {
    dryRun,
    considered: 0,
    replayed: [],
    stillFailing: [],
    failed: [],
    skipped: [],
  };
  const seen = new Set<number>();
  if (filter.ids?.length === 0) return report;

  let after: DeadLetterSource | undefined;
  for (;;) {
    const taken = await warehouse.transaction(async (trx) => {
      const rows = await selectBatch(trx, filter, after, batchSize, !dryRun);
      const deadLetters = rows.map(toRecord);
      const decisions = planReplay(deadLetters, validator);
      const produced = dryRun ? new Map<number, string>() : await produce(producer, decisions);
      if (!dryRun) await recordOutcomes(trx, decisions, produced);
      addToReport(report, decisions, produced);
      return deadLetters;
    });
    for (const deadLetter of taken) seen.add(deadLetter.id);
    const last = taken.at(-1);
    if (!last || taken.length < batchSize) break;
    after = { topic: last.kafkaTopic, partition: last.kafkaPartition, offset: last.kafkaOffset };
  }

  if (filter.ids) {
    const missing = [...new Set(filter.ids)].filter((id) => !seen.has(id));
    report.skipped.push(...(await explainMissing(warehouse, missing, filter.since)));
  }
  return report;
}

/** The next batch of unreplayed dead letters after `after`, in topic, partition, offset order. */
function selectBatch(
  trx: Knex.Transaction,
  filter: ReplayFilter,
  after: DeadLetterSource | undefined,
  limit: number,
  lock: boolean,
): Promise<DeadLetterRow[]> {
  const query = trx('ops.dead_letters')
    .select('id', 'raw', 'kafka_topic', 'kafka_partition', 'kafka_offset', 'received_at')
    .whereNull('replayed_at')
    .orderBy([{ column: 'kafka_topic' }, { column: 'kafka_partition' }, { column: 'kafka_offset' }])
    .limit(limit);
  if (filter.since) query.where('received_at', '>=', filter.since);
  if (filter.ids) query.whereIn('id', [...filter.ids]);
  if (after) {
    query.whereRaw('(kafka_topic, kafka_partition, kafka_offset) > (?, ?, ?::bigint)', [
      after.topic,
      after.partition,
      after.offset,
    ]);
  }
  if (lock) query.forUpdate().skipLocked();
  return query;
}

function toRecord(row: DeadLetterRow): DeadLetterRecord {
  return {
    id: Number(row.id),
    raw: row.raw,
    kafkaTopic: row.kafka_topic,
    kafkaPartition: row.kafka_partition,
    kafkaOffset: String(row.kafka_offset),
    receivedAt: row.received_at,
  };
}

/**
 * Produces the passing dead letters, one send per topic, waiting for every in-sync replica.
 * Returns the error of each dead letter whose topic's send failed; the others were acknowledged.
 */
async function produce(
  producer: Producer,
  decisions: readonly ReplayDecision[],
): Promise<Map<number, string>> {
  const byTopic = new Map<string, Extract<ReplayDecision, { kind: 'passes' }>[]>();
  for (const decision of decisions) {
    if (decision.kind !== 'passes') continue;
    const list = byTopic.get(decision.message.topic) ?? [];
    list.push(decision);
    byTopic.set(decision.message.topic, list);
  }
  const failures = new Map<number, string>();
  for (const [topic, passing] of byTopic) {
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: passing.map(({ deadLetter, message }) => ({
          key: message.key,
          value: message.value,
          partition: message.partition,
          headers: {
            'tidemark-replay-of': String(deadLetter.id),
            'tidemark-replay-source': `${deadLetter.kafkaTopic}/${deadLetter.kafkaPartition}/${deadLetter.kafkaOffset}`,
          },
        })),
      });
    } catch (error) {
      const reason = `producing to ${topic} failed: ${error instanceof Error ? error.message : String(error)}`;
      for (const { deadLetter } of passing) failures.set(deadLetter.id, reason);
    }
  }
  return failures;
}

/** Marks what was re-injected as replayed and counts an attempt on every dead letter taken. */
async function recordOutcomes(
  trx: Knex.Transaction,
  decisions: readonly ReplayDecision[],
  failures: ReadonlyMap<number, string>,
): Promise<void> {
  for (const decision of decisions) {
    const { id } = decision.deadLetter;
    const attempt = { replay_attempts: trx.raw('replay_attempts + 1') };
    const failure = failures.get(id);
    if (decision.kind === 'passes' && failure === undefined) {
      await trx('ops.dead_letters')
        .where({ id: String(id) })
        .update({
          ...attempt,
          replayed_at: trx.raw('clock_timestamp()'),
          replay_topic: decision.message.topic,
          replay_source_table: decision.table,
          replay_lsn: decision.lsn,
          last_replay_error: null,
        });
      continue;
    }
    const lastReplayError =
      decision.kind === 'still_failing'
        ? describeReplayFailure(decision.error)
        : decision.kind === 'not_a_change'
          ? `not replayable: ${decision.reason}`
          : (failure as string);
    await trx('ops.dead_letters')
      .where({ id: String(id) })
      .update({ ...attempt, last_replay_error: lastReplayError });
  }
}

function addToReport(
  report: ReplayReport,
  decisions: readonly ReplayDecision[],
  failures: ReadonlyMap<number, string>,
): void {
  for (const decision of decisions) {
    const { deadLetter } = decision;
    const { id } = deadLetter;
    const source = {
      topic: deadLetter.kafkaTopic,
      partition: deadLetter.kafkaPartition,
      offset: deadLetter.kafkaOffset,
    };
    report.considered += 1;
    if (decision.kind === 'still_failing') {
      const { code, path, message, issues } = decision.error;
      report.stillFailing.push({ id, source, code, path, message, issues });
    } else if (decision.kind === 'not_a_change') {
      report.skipped.push({ id, source, reason: 'not_a_change', detail: decision.reason });
    } else {
      const failure = failures.get(id);
      const { topic, partition, key } = decision.message;
      if (failure === undefined) report.replayed.push({ id, source, topic, partition, key });
      else report.failed.push({ id, source, topic, error: failure });
    }
  }
}

/** Why dead letters asked for by id were not taken: unknown, replayed, outside --since or locked. */
async function explainMissing(
  warehouse: Knex,
  ids: readonly number[],
  since: Date | undefined,
): Promise<ReplayReport['skipped']> {
  if (ids.length === 0) return [];
  const rows = (await warehouse('ops.dead_letters')
    .whereIn('id', [...ids])
    .select(
      'id',
      'kafka_topic',
      'kafka_partition',
      'kafka_offset',
      'received_at',
      'replayed_at',
      'replay_topic',
    )) as (DeadLetterRow & { replayed_at: Date | null; replay_topic: string | null })[];
  const byId = new Map(rows.map((row) => [Number(row.id), row]));
  return ids.map((id) => {
    const row = byId.get(id);
    if (!row) return { id, reason: 'not_found', detail: 'no dead letter has this id' };
    const source = {
      topic: row.kafka_topic,
      partition: row.kafka_partition,
      offset: String(row.kafka_offset),
    };
    if (row.replayed_at) {
      return {
        id,
        source,
        reason: 'already_replayed',
        detail: `replayed to ${row.replay_topic ?? '?'} at ${row.replayed_at.toISOString()}`,
      };
    }
    if (since && row.received_at < since) {
      return {
        id,
        source,
        reason: 'received_before_since',
        detail: `received at ${row.received_at.toISOString()}, before ${since.toISOString()}`,
      };
    }
    return { id, source, reason: 'locked', detail: 'another replay is taking it now' };
  });
}
