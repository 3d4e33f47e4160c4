import {
  ConnectClient,
  createKafka,
  ensureTopics,
  renderConnectorConfig,
  silentLogger,
  TidemarkError,
  type Config,
  type ConnectorStatus,
  type Logger,
} from '@tidemark/runtime';
import { readFile } from 'node:fs/promises';
import { SHOP_CONNECTOR_CONFIG, SHOP_CONNECTOR_NAME } from '../paths';

/** The Debezium connector config for this environment, from the template shared with compose. */
export async function shopConnectorConfig(config: Config): Promise<Record<string, string>> {
  let template: Record<string, string>;
  try {
    template = JSON.parse(await readFile(SHOP_CONNECTOR_CONFIG, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new TidemarkError(
      'BAD_INPUT',
      `cannot read the connector config ${SHOP_CONNECTOR_CONFIG}`,
      { cause: error },
    );
  }
  return renderConnectorConfig(template, {
    TIDEMARK_CONNECT_DB_HOST: config.connect.databaseHost,
    TIDEMARK_PG_PORT: String(config.connect.databasePort),
  });
}

/** The change topics a connector config produces: `<topic.prefix>.<schema>.<table>` per table. */
export function changeTopicsOf(connectorConfig: Record<string, string>): string[] {
  const prefix = connectorConfig['topic.prefix'];
  const tables = connectorConfig['table.include.list'];
  if (!prefix || !tables) {
    throw new TidemarkError(
      'BAD_INPUT',
      'the connector config needs topic.prefix and table.include.list',
    );
  }
  return tables.split(',').map((table) => `${prefix}.${table.trim()}`);
}

/** The topics a stream pipeline reads and writes, derived from the connector config. */
export interface StreamTopology {
  /** Change topic per captured table. */
  changeTopics: Map<string, string>;
  /** Debezium's heartbeat topic: `<topic.heartbeat.prefix>.<topic.prefix>`. */
  heartbeatTopic: string;
  /** Where dead letters are published besides the warehouse table. */
  deadLetterTopic: string;
  /**
   * Where Debezium writes its signal table's own rows (`signal.data.collection`), if the
   * connector has one: not a change topic, but Connect must be able to write it.
   */
  signalTopic?: string;
}

export function streamTopologyOf(connectorConfig: Record<string, string>): StreamTopology {
  const prefix = connectorConfig['topic.prefix'] as string;
  const topics = changeTopicsOf(connectorConfig);
  const heartbeatPrefix = connectorConfig['topic.heartbeat.prefix'] ?? '__debezium-heartbeat';
  const signals = connectorConfig['signal.data.collection'];
  return {
    changeTopics: new Map(topics.map((topic) => [topic.slice(prefix.length + 1), topic])),
    heartbeatTopic: `${heartbeatPrefix}.${prefix}`,
    deadLetterTopic: `${prefix}.dlq`,
    ...(signals ? { signalTopic: `${prefix}.${signals}` } : {}),
  };
}

/** The stream topology of the shop connector. */
export async function shopStreamTopology(config: Config): Promise<StreamTopology> {
  return streamTopologyOf(await shopConnectorConfig(config));
}

/** The change topics of the shop connector, in table order. */
export async function shopChangeTopics(config: Config): Promise<string[]> {
  return changeTopicsOf(await shopConnectorConfig(config));
}

/**
 * Creates the topics as the operator (the broker creates none on first use, and neither Connect
 * nor the stream may create these): the change topics (so consumers can start before the first
 * change), the heartbeat and dead-letter topics. Then registers or updates the Debezium
 * connector, and waits until it and its task run.
 */
export async function registerShopConnector(
  config: Config,
  logger: Logger = silentLogger,
): Promise<ConnectorStatus> {
  const connectorConfig = await shopConnectorConfig(config);
  const partitions = Number(connectorConfig['topic.creation.default.partitions'] ?? '1');
  const kafka = createKafka(config, 'tidemark-setup', logger, 'admin');
  const topology = streamTopologyOf(connectorConfig);
  await ensureTopics(kafka, changeTopicsOf(connectorConfig), partitions);
  await ensureTopics(
    kafka,
    [
      topology.heartbeatTopic,
      topology.deadLetterTopic,
      ...(topology.signalTopic ? [topology.signalTopic] : []),
    ],
    1,
  );
  const connect = new ConnectClient(config.connect.url);
  await connect.putConnector(SHOP_CONNECTOR_NAME, connectorConfig);
  return connect.waitUntilRunning(SHOP_CONNECTOR_NAME, 90_000);
}

export function describeConnector(status: ConnectorStatus | undefined): string {
  if (!status) return `${SHOP_CONNECTOR_NAME}: not registered`;
  const tasks = status.tasks.map((task) => `task ${task.id} ${task.state}`).join(', ');
  return `${status.name}: ${status.state} (${tasks || 'no tasks'})`;
}
