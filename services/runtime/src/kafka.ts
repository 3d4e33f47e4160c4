import { Kafka, logLevel, type Admin, type SASLOptions } from 'kafkajs';
import type { Config, KafkaPrincipal } from './config';
import { TidemarkError } from './errors';
import type { Logger } from './logger';
import { waitFor } from './wait';

const KAFKAJS_LEVELS: Record<number, 'debug' | 'info' | 'warn' | 'error'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client authenticated as `principal`, whose own log lines go through our structured
 * logger. The default is the operator (a super user: setup, tests, dlq replay, stream reset); a
 * stream pipeline's composition root passes 'stream' (docs/security.md).
 */
export function createKafka(
  config: Config,
  clientId: string,
  logger: Logger,
  principal: KafkaPrincipal = 'admin',
): Kafka {
  return new Kafka({
    clientId,
    brokers: config.kafka.brokers,
    ssl: config.kafka.ssl,
    sasl: saslOptions(config, principal),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...fields } = log;
        logger[KAFKAJS_LEVELS[level] ?? 'info'](`kafkajs: ${message}`, fields);
      },
  });
}

function saslOptions(config: Config, principal: KafkaPrincipal): SASLOptions | undefined {
  const mechanism = config.kafka.saslMechanism;
  if (!mechanism) return undefined;
  const { username, password } = config.kafka.principals[principal];
  return { mechanism, username, password } as SASLOptions;
}

/** Runs `work` with a connected admin client, disconnected afterwards whatever happens. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Runs `work` with a connected admin client and those of `topics` that do not exist. */
async function withMissingTopics<T>(
  kafka: Kafka,
  topics: readonly string[],
  work: (admin: Admin, missing: string[]) => Promise<T>,
): Promise<T> {
  return withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    return work(
      admin,
      topics.filter((topic) => !existing.has(topic)),
    );
  });
}

/**
 * Creates the topics that do not exist yet and waits for their leaders, so consumers never race
 * the broker's auto-creation (which answers "does not host this topic-partition" meanwhile).
 * The wait is ours: kafkajs's own (`waitForLeaders`) retries while a leader is not available but
 * gives up on that answer, which a broker in a container gave for a topic it had just created.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  partitions: number,
): Promise<string[]> {
  return withMissingTopics(kafka, topics, async (admin, missing) => {
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions })),
      });
      await waitFor(
        `leaders of the new topics ${missing.join(', ')}`,
        async () => ((await allHaveLeaders(admin, missing)) ? true : undefined),
        { timeoutMs: 60_000 },
      );
    }
    return missing;
  });
}

async function allHaveLeaders(admin: Admin, topics: string[]): Promise<boolean> {
  // Asked for by name before the broker knows them, metadata comes back as an error kafkajs logs.
  const known = new Set(await admin.listTopics());
  if (!topics.every((topic) => known.has(topic))) return false;
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
  return (
    metadata.length === topics.length &&
    metadata.every(
      ({ partitions }) =>
        partitions.length > 0 &&
        partitions.every(({ leader }) => leader !== undefined && leader >= 0),
    )
  );
}

/**
 * Fails, naming them, when topics a pipeline needs do not exist: its principal may not create
 * topics (the broker creates none on first use), the operator does, at `tidemark connector register`.
 */
export async function requireTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  await withMissingTopics(kafka, topics, async (_admin, missing) => {
    if (missing.length > 0) {
      throw new TidemarkError(
        'TOPIC_MISSING',
        `topic(s) ${missing.join(', ')} do not exist (or this principal may not see them); ` +
          'create them with: npx tidemark connector register',
        { context: { missing } },
      );
    }
  });
}
