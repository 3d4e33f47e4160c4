import type { Knex } from 'knex';
import type { DeadLetterIssue } from './replay-plan';

/** Which dead letters to list, newest first. */
export interface DeadLetterQuery {
  /** Only dead letters received at or after this time. */
  since?: Date;
  /** Only this decode error code, e.g. `CONTRACT_VIOLATION`. */
  code?: string;
  /** Only the source table `schema.table` (matched on the change topic's name). */
  table?: string;
  limit: number;
  /** Also the dead letters already replayed. */
  includeReplayed: boolean;
}

/** A dead letter as `tidemark dlq list` shows it (without its raw bytes). */
export interface DeadLetterEntry {
  id: number;
  receivedAt: Date;
  topic: string;
  partition: number;
  offset: string;
  code: string;
  path: string;
  message: string;
  issues: DeadLetterIssue[];
  rawBytes: number;
  replayedAt: Date | null;
  replayTopic: string | null;
  replayAttempts: number;
  lastReplayError: string | null;
}

interface EntryRow {
  id: string | number;
  received_at: Date;
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: string | number;
  code: string;
  path: string;
  message: string;
  issues: DeadLetterIssue[] | null;
  raw_bytes: string | number | null;
  replayed_at: Date | null;
  replay_topic: string | null;
  replay_attempts: number;
  last_replay_error: string | null;
}

/** The newest dead letters matching the query, newest first. */
export async function listDeadLetters(
  warehouse: Knex,
  query: DeadLetterQuery,
): Promise<DeadLetterEntry[]> {
  const select = warehouse('ops.dead_letters')
    .select<EntryRow[]>(
      'id',
      'received_at',
      'kafka_topic',
      'kafka_partition',
      'kafka_offset',
      'code',
      'path',
      'message',
      'issues',
      warehouse.raw('octet_length(raw) AS raw_bytes'),
      'replayed_at',
      'replay_topic',
      'replay_attempts',
      'last_replay_error',
    )
    .orderBy([
      { column: 'received_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(query.limit);
  if (!query.includeReplayed) select.whereNull('replayed_at');
  if (query.since) select.where('received_at', '>=', query.since);
  if (query.code) select.where('code', query.code);
  // Change topics are named <prefix>.<schema>.<table>.
  const { table } = query;
  if (table) {
    select.where((where) =>
      where
        .where('kafka_topic', table)
        .orWhereRaw('right(kafka_topic, ?) = ?', [table.length + 1, `.${table}`]),
    );
  }
  const rows = await select;
  return rows.map((row) => ({
    id: Number(row.id),
    receivedAt: row.received_at,
    topic: row.kafka_topic,
    partition: row.kafka_partition,
    offset: String(row.kafka_offset),
    code: row.code,
    path: row.path,
    message: row.message,
    issues: row.issues ?? [{ code: row.code, path: row.path, message: row.message }],
    rawBytes: Number(row.raw_bytes ?? 0),
    replayedAt: row.replayed_at,
    replayTopic: row.replay_topic,
    replayAttempts: row.replay_attempts,
    lastReplayError: row.last_replay_error,
  }));
}
