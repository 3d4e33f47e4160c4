import { Kafka, logLevel } from 'kafkajs';
import type { Config } from './config';
import type { Logger } from './logger';

const KAFKAJS_LEVELS: Record<number, 'debug' | 'info' | 'warn' | 'error'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own log lines go through our structured logger. */
export function createKafka(config: Config, clientId: string, logger: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...fields } = log;
        logger[KAFKAJS_LEVELS[level] ?? 'info'](`kafkajs: ${message}`, fields);
      },
  });
}

/**
 * Creates the topics that do not exist yet and waits for their leaders, so consumers never race
 * the broker's auto-creation (which answers "does not host this topic-partition" meanwhile).
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  partitions: number,
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions })),
      });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
