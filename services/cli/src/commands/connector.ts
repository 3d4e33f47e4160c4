import {
  ConnectClient,
  renderConnectorConfig,
  TidemarkError,
  type Config,
  type ConnectorStatus,
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

/** Registers (or updates) the Debezium connector and waits until it and its task run. */
export async function registerShopConnector(config: Config): Promise<ConnectorStatus> {
  const connect = new ConnectClient(config.connect.url);
  await connect.putConnector(SHOP_CONNECTOR_NAME, await shopConnectorConfig(config));
  return connect.waitUntilRunning(SHOP_CONNECTOR_NAME, 90_000);
}

export function describeConnector(status: ConnectorStatus | undefined): string {
  if (!status) return `${SHOP_CONNECTOR_NAME}: not registered`;
  const tasks = status.tasks.map((task) => `task ${task.id} ${task.state}`).join(', ');
  return `${status.name}: ${status.state} (${tasks || 'no tasks'})`;
}
