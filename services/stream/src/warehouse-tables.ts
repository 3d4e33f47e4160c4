import type { Knex } from 'knex';
import type { DeadLetter } from './landing';
import type { QueuedSessionInput, QueuedWatermarks } from './session-queue';
import type { MeasureValue } from './windowing/accumulator';

// The stream's tables in the warehouse as the pg driver returns their rows (bigint and numeric
// as strings, timestamptz as Date, json and jsonb parsed), for knex's typed query builders:
// `warehouse('ops.consumer_offsets')` yields these rows, not `any`.

/**
 * A table's rows as read; what is written names its columns (checked), with values the driver
 * converts (not checked here: JSON text, numbers for bigint columns).
 */
type Table<Row> = Knex.CompositeTableType<
  Row,
  Partial<Record<keyof Row, unknown>>,
  Partial<Record<keyof Row, unknown>>
>;

/** ops.consumer_offsets: where each partition of a pipeline stands (`positions.ts`). */
export interface ConsumerOffsetRow {
  group_id: string;
  topic: string;
  partition: number;
  next_offset: string;
  updated_at: Date;
  max_event_time_ms: string | null;
  max_lsn: string | null;
  max_lsn_committed_at_ms: string | null;
  first_offset: string;
  max_committed_at_ms: string | null;
  max_committed_lsn: string | null;
  min_committed_at_ms: string | null;
}

/** stream.pipelines: each pipeline's first start and since when it observes the changelog. */
export interface PipelineRow {
  pipeline: string;
  observed_from: Date | null;
  first_started_at: Date;
}

/** stream.watermarks: each metric's stored watermark. */
export interface WatermarkRow {
  pipeline: string;
  metric: string;
  watermark: Date;
  updated_at: Date;
}

/**
 * stream.session_state: a session key's open sessions (event times, and measures when measured),
 * where its closed ones ended, and its rows (`windowing/session-rows.ts`: `rows_until_ms` the
 * largest bigint for every session, the smallest for none; `due_from_ms` null when every session
 * has one).
 */
export interface SessionStateRow {
  pipeline: string;
  metric: string;
  group_key: string;
  key_values: unknown[];
  event_times: string[];
  measures: MeasureValue[] | null;
  closed_until_ms: string | null;
  shard: number | null;
  rows_until_ms: string;
  due_from_ms: string | null;
}

/** stream.session_inbox: a batch's session contributions queued for their shard's owner. */
export interface SessionInboxRow {
  id: string;
  pipeline: string;
  inputs: QueuedSessionInput[];
  watermarks: QueuedWatermarks;
  queued_at: Date;
  topic: string | null;
  shard: number | null;
}

/** ops.stream_gaps: offsets Kafka deleted before the pipeline read them. */
export interface StreamGapRow {
  id: string;
  pipeline: string;
  topic: string;
  partition: number;
  missing_from: string;
  missing_until: string;
  max_event_time_ms: string | null;
  detected_at: Date;
}

/** ops.dead_letters: every message the stream refused, with its bytes, and its replays. */
export interface DeadLetterRow extends Omit<DeadLetter, 'issues' | 'raw'> {
  id: string;
  raw: Buffer | null;
  received_at: Date;
  issues: unknown;
  replayed_at: Date | null;
  replay_topic: string | null;
  replay_attempts: number;
  last_replay_error: string | null;
  replay_source_table: string | null;
  replay_lsn: string | null;
}

declare module 'knex/types/tables' {
  interface Tables {
    'ops.consumer_offsets': Table<ConsumerOffsetRow>;
    'stream.pipelines': Table<PipelineRow>;
    'stream.watermarks': Table<WatermarkRow>;
    'stream.session_inbox': Table<SessionInboxRow>;
    'stream.session_state': Table<SessionStateRow>;
    'ops.stream_gaps': Table<StreamGapRow>;
    'ops.dead_letters': Table<DeadLetterRow>;
  }
}
