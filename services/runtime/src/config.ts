import { z } from 'zod';
import { TidemarkError } from './errors';

const port = z.coerce.number().int().min(1).max(65535);

/** Every setting the deployables read, from TIDEMARK_* variables with the native stack's defaults. */
const ENV_SCHEMA = z.object({
  TIDEMARK_PG_HOST: z.string().min(1).default('127.0.0.1'),
  TIDEMARK_PG_PORT: port.default(5432),
  TIDEMARK_SOURCE_DB: z.string().min(1).default('source'),
  TIDEMARK_WAREHOUSE_DB: z.string().min(1).default('warehouse'),
  TIDEMARK_APP_USER: z.string().min(1).default('tidemark_app'),
  TIDEMARK_APP_PASSWORD: z.string().min(1).default('tidemark_app'),
  TIDEMARK_PLATFORM_USER: z.string().min(1).default('tidemark_platform'),
  TIDEMARK_PLATFORM_PASSWORD: z.string().min(1).default('tidemark_platform'),
  TIDEMARK_KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  TIDEMARK_CONNECT_URL: z.url().default('http://127.0.0.1:8083'),
  TIDEMARK_CONNECT_DB_HOST: z.string().min(1).default('127.0.0.1'),
  TIDEMARK_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TIDEMARK_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TIDEMARK_TEMPORAL_TASK_QUEUE: z.string().min(1).default('tidemark'),
  TIDEMARK_TOPIC_PREFIX: z.string().min(1).default('tidemark'),
  TIDEMARK_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  TIDEMARK_STREAM_PIPELINE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')
    .default('tidemark-stream'),
  TIDEMARK_STREAM_START: z.enum(['earliest', 'latest']).default('earliest'),
  TIDEMARK_STREAM_IDLE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  TIDEMARK_STREAM_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(30_000),
  TIDEMARK_STREAM_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  TIDEMARK_STREAM_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  TIDEMARK_STREAM_PLAUSIBLE_FROM: z.iso
    .date('a date as YYYY-MM-DD, such as 2000-01-01')
    .default('2000-01-01'),
  TIDEMARK_STREAM_PLAUSIBLE_AHEAD: z
    .string()
    .regex(/^\d+(m|h|d)$/, 'a duration in minutes, hours or days, such as 90m, 12h or 1d')
    .default('1d'),
  TIDEMARK_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  TIDEMARK_NIGHTLY_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM (24-hour)')
    .default('02:30'),
  TIDEMARK_NIGHTLY_TIMEZONE: z
    .string()
    .refine(isTimeZone, 'an IANA time zone such as UTC or Europe/Paris')
    .default('UTC'),
  TIDEMARK_NIGHTLY_CATCHUP_WINDOW: z
    .string()
    .regex(/^\d+(m|h|d)$/, 'a duration in minutes, hours or days, such as 90m, 12h or 3d')
    .default('3d'),
  TIDEMARK_NIGHTLY_OVERLAP: z
    .enum(['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'])
    .default('BUFFER_ALL'),
});

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as 90m, 12h or 1d (validated by the schema) in milliseconds. */
function durationMs(text: string): number {
  const unit = text.at(-1) as keyof typeof UNIT_MS;
  return Number(text.slice(0, -1)) * UNIT_MS[unit];
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export interface DatabaseSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export interface Config {
  source: DatabaseSettings;
  /** The source database as the platform role, which may only read the captured tables. */
  sourceReader: DatabaseSettings;
  warehouse: DatabaseSettings;
  kafka: { brokers: string[]; topicPrefix: string };
  connect: { url: string; databaseHost: string; databasePort: number };
  temporal: { address: string; namespace: string; taskQueue: string };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  stream: {
    /** The consumer group, and the key of everything the pipeline derives. */
    pipeline: string;
    /** Where a pipeline with no stored offsets starts. */
    startAt: 'earliest' | 'latest';
    idleTimeoutMs: number;
    sessionTimeoutMs: number;
    /** Partitions whose batches are applied at the same time. */
    concurrency: number;
    /** Port of /metrics, /healthz and /readyz (0: any free port). */
    metricsPort: number;
    /** Larger messages are dead letters, not parsed. */
    maxMessageBytes: number;
    /** A change's times must fall from here to `plausibleAheadMs` past now. */
    plausibleFromMs: number;
    plausibleAheadMs: number;
  };
  /** The nightly consolidation's Temporal Schedule. */
  nightly: {
    /** Local time of day it fires, HH:MM. */
    at: string;
    /** The IANA time zone of `at` (daylight saving time handled by Temporal). */
    timeZone: string;
    /** How far back missed runs are still taken after an outage, e.g. 3d. */
    catchupWindow: string;
    /** What happens when a run fires while the previous one still runs. */
    overlap:
      'SKIP' | 'BUFFER_ONE' | 'BUFFER_ALL' | 'CANCEL_OTHER' | 'TERMINATE_OTHER' | 'ALLOW_ALL';
  };
}

/** Reads and validates the configuration once; fails with every invalid setting listed. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = ENV_SCHEMA.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new TidemarkError(
      'CONFIG_INVALID',
      `invalid configuration:\n  ${problems.join('\n  ')}`,
      {
        context: { problems },
      },
    );
  }
  const e = parsed.data;
  const server = { host: e.TIDEMARK_PG_HOST, port: e.TIDEMARK_PG_PORT };
  return {
    source: {
      ...server,
      database: e.TIDEMARK_SOURCE_DB,
      user: e.TIDEMARK_APP_USER,
      password: e.TIDEMARK_APP_PASSWORD,
    },
    sourceReader: {
      ...server,
      database: e.TIDEMARK_SOURCE_DB,
      user: e.TIDEMARK_PLATFORM_USER,
      password: e.TIDEMARK_PLATFORM_PASSWORD,
    },
    warehouse: {
      ...server,
      database: e.TIDEMARK_WAREHOUSE_DB,
      user: e.TIDEMARK_PLATFORM_USER,
      password: e.TIDEMARK_PLATFORM_PASSWORD,
    },
    kafka: {
      brokers: e.TIDEMARK_KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
      topicPrefix: e.TIDEMARK_TOPIC_PREFIX,
    },
    connect: {
      url: e.TIDEMARK_CONNECT_URL.replace(/\/$/, ''),
      databaseHost: e.TIDEMARK_CONNECT_DB_HOST,
      databasePort: e.TIDEMARK_PG_PORT,
    },
    temporal: {
      address: e.TIDEMARK_TEMPORAL_ADDRESS,
      namespace: e.TIDEMARK_TEMPORAL_NAMESPACE,
      taskQueue: e.TIDEMARK_TEMPORAL_TASK_QUEUE,
    },
    logLevel: e.TIDEMARK_LOG_LEVEL,
    stream: {
      pipeline: e.TIDEMARK_STREAM_PIPELINE,
      startAt: e.TIDEMARK_STREAM_START,
      idleTimeoutMs: e.TIDEMARK_STREAM_IDLE_TIMEOUT_MS,
      sessionTimeoutMs: e.TIDEMARK_STREAM_SESSION_TIMEOUT_MS,
      concurrency: e.TIDEMARK_STREAM_CONCURRENCY,
      metricsPort: e.TIDEMARK_METRICS_PORT,
      maxMessageBytes: e.TIDEMARK_STREAM_MAX_MESSAGE_BYTES,
      plausibleFromMs: Date.parse(`${e.TIDEMARK_STREAM_PLAUSIBLE_FROM}T00:00:00Z`),
      plausibleAheadMs: durationMs(e.TIDEMARK_STREAM_PLAUSIBLE_AHEAD),
    },
    nightly: {
      at: e.TIDEMARK_NIGHTLY_AT,
      timeZone: e.TIDEMARK_NIGHTLY_TIMEZONE,
      catchupWindow: e.TIDEMARK_NIGHTLY_CATCHUP_WINDOW,
      overlap: e.TIDEMARK_NIGHTLY_OVERLAP,
    },
  };
}
