import { readFileSync } from 'node:fs';
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
  TIDEMARK_APP_PASSWORD: z.string().min(1),
  TIDEMARK_PLATFORM_USER: z.string().min(1).default('tidemark_platform'),
  TIDEMARK_PLATFORM_PASSWORD: z.string().min(1),
  TIDEMARK_PG_STREAM_USER: z.string().min(1).default('tidemark_stream'),
  TIDEMARK_PG_STREAM_PASSWORD: z.string().min(1),
  TIDEMARK_PG_WORKER_USER: z.string().min(1).default('tidemark_worker'),
  TIDEMARK_PG_WORKER_PASSWORD: z.string().min(1),
  TIDEMARK_PG_READER_USER: z.string().min(1).default('tidemark_reader'),
  TIDEMARK_PG_READER_PASSWORD: z.string().min(1),
  TIDEMARK_KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  TIDEMARK_KAFKA_SASL_MECHANISM: z
    .enum(['scram-sha-512', 'scram-sha-256', 'plain', 'none'])
    .default('scram-sha-512'),
  TIDEMARK_KAFKA_SSL: z.stringbool().default(false),
  TIDEMARK_KAFKA_ADMIN_USER: z.string().min(1).default('admin'),
  TIDEMARK_KAFKA_ADMIN_PASSWORD: z.string().min(1),
  TIDEMARK_KAFKA_STREAM_USER: z.string().min(1).default('stream'),
  TIDEMARK_KAFKA_STREAM_PASSWORD: z.string().min(1),
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
  // A consumer killed without leaving (kill -9, a lost machine) holds its partitions until its
  // session times out, and kafkajs has no static membership (KIP-345) to let its restart take
  // them back sooner: 10 s bounds that pause; heartbeats go every 3 s. 6 s is the broker's floor.
  TIDEMARK_STREAM_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(10_000),
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
  TIDEMARK_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
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

/** The variables that are set: an empty value counts as unset, so the default applies. */
function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
}

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

/**
 * The development passwords (infra/dev-credentials.env, shared with the stack's scripts and
 * docker-compose.yml): a password missing from the environment comes from there.
 */
const DEV_CREDENTIALS_FILE = new URL('../../../infra/dev-credentials.env', import.meta.url);

/** Parses `NAME=value` lines, skipping comments and blank lines. */
export function parseCredentialsFile(text: string): Record<string, string> {
  const credentials: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^(TIDEMARK_[A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) credentials[match[1]] = match[2];
  }
  return credentials;
}

function devCredentials(): Record<string, string> {
  try {
    return parseCredentialsFile(readFileSync(DEV_CREDENTIALS_FILE, 'utf8'));
  } catch {
    // Without the file every password must come from the environment; the schema says which.
    return {};
  }
}

export interface DatabaseSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

/** A Kafka principal's SASL credentials. */
export interface KafkaCredentials {
  username: string;
  password: string;
}

/** Who a Kafka client authenticates as (docs/security.md). */
export type KafkaPrincipal = 'admin' | 'stream';

export interface Config {
  source: DatabaseSettings;
  /** The source database as the batch worker's role, which may only read the captured tables. */
  sourceReader: DatabaseSettings;
  /**
   * The warehouse as its owner, which every schema belongs to: migrations, and tests' own setup
   * and assertions. No deployable connects as it.
   */
  warehouse: DatabaseSettings;
  /** The warehouse as the stream: writes raw, ops, stream and provisional. */
  warehouseStream: DatabaseSettings;
  /** The warehouse as the batch worker: writes final, quality and audit; reads the rest. */
  warehouseWorker: DatabaseSettings;
  /** The warehouse read-only: reports (audit, quality, dlq list, stream gaps). */
  warehouseReader: DatabaseSettings;
  kafka: {
    brokers: string[];
    topicPrefix: string;
    /** TLS to the brokers (the native stack's listener is plaintext on 127.0.0.1). */
    ssl: boolean;
    /** The SASL mechanism, or undefined for a broker without authentication. */
    saslMechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain' | undefined;
    /** The operator (a super user) and the stream pipelines' principal. */
    principals: Record<KafkaPrincipal, KafkaCredentials>;
  };
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
  worker: {
    /** Port of the platform's /metrics (replication slot, final days), /healthz and /readyz. */
    metricsPort: number;
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
  const parsed = ENV_SCHEMA.safeParse({ ...devCredentials(), ...definedOnly(env) });
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
  const warehouse = { ...server, database: e.TIDEMARK_WAREHOUSE_DB };
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
      user: e.TIDEMARK_PG_WORKER_USER,
      password: e.TIDEMARK_PG_WORKER_PASSWORD,
    },
    warehouse: {
      ...warehouse,
      user: e.TIDEMARK_PLATFORM_USER,
      password: e.TIDEMARK_PLATFORM_PASSWORD,
    },
    warehouseStream: {
      ...warehouse,
      user: e.TIDEMARK_PG_STREAM_USER,
      password: e.TIDEMARK_PG_STREAM_PASSWORD,
    },
    warehouseWorker: {
      ...warehouse,
      user: e.TIDEMARK_PG_WORKER_USER,
      password: e.TIDEMARK_PG_WORKER_PASSWORD,
    },
    warehouseReader: {
      ...warehouse,
      user: e.TIDEMARK_PG_READER_USER,
      password: e.TIDEMARK_PG_READER_PASSWORD,
    },
    kafka: {
      brokers: e.TIDEMARK_KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
      topicPrefix: e.TIDEMARK_TOPIC_PREFIX,
      ssl: e.TIDEMARK_KAFKA_SSL,
      saslMechanism:
        e.TIDEMARK_KAFKA_SASL_MECHANISM === 'none' ? undefined : e.TIDEMARK_KAFKA_SASL_MECHANISM,
      principals: {
        admin: { username: e.TIDEMARK_KAFKA_ADMIN_USER, password: e.TIDEMARK_KAFKA_ADMIN_PASSWORD },
        stream: {
          username: e.TIDEMARK_KAFKA_STREAM_USER,
          password: e.TIDEMARK_KAFKA_STREAM_PASSWORD,
        },
      },
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
    worker: { metricsPort: e.TIDEMARK_WORKER_METRICS_PORT },
    nightly: {
      at: e.TIDEMARK_NIGHTLY_AT,
      timeZone: e.TIDEMARK_NIGHTLY_TIMEZONE,
      catchupWindow: e.TIDEMARK_NIGHTLY_CATCHUP_WINDOW,
      overlap: e.TIDEMARK_NIGHTLY_OVERLAP,
    },
  };
}
