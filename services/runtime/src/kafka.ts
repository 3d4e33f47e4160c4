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

/** The Debezium topic of a source table: `<prefix>.<schema>.<table>`. */
export function changeTopic(config: Config, table: string): string {
  return `${config.kafka.topicPrefix}.${table}`;
}
