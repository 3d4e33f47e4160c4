import { TidemarkError } from './errors';
import { waitFor } from './wait';

export type ConnectorState =
  'RUNNING' | 'PAUSED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING' | 'STOPPED';

export interface ConnectorStatus {
  name: string;
  state: ConnectorState;
  tasks: { id: number; state: ConnectorState; trace?: string }[];
}

/**
 * Fills `${NAME}` placeholders of a connector config template (infra/connect/*.json, shared with
 * docker-compose) from `variables`; an unknown placeholder is an error, never left in place.
 */
export function renderConnectorConfig(
  template: Record<string, string>,
  variables: Record<string, string>,
): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const [key, value] of Object.entries(template)) {
    rendered[key] = value.replace(/\$\{([A-Z0-9_]+)\}/g, (_match, name: string) => {
      const replacement = variables[name];
      if (replacement === undefined) {
        throw new TidemarkError(
          'BAD_INPUT',
          `connector config "${key}" uses \${${name}}, which is not set`,
        );
      }
      return replacement;
    });
  }
  return rendered;
}

/** A small client of the Kafka Connect REST API. */
export class ConnectClient {
  constructor(private readonly baseUrl: string) {}

  /** Creates or updates a connector (PUT is idempotent); retried while the worker rebalances. */
  async putConnector(name: string, config: Record<string, string>): Promise<void> {
    await waitFor(
      `Kafka Connect to accept connector ${name}`,
      async () => {
        const response = await this.request(
          'PUT',
          `/connectors/${encodeURIComponent(name)}/config`,
          config,
        );
        if (response.ok) return true;
        const body = await response.text();
        if (response.status === 400 || response.status === 422) {
          throw new TidemarkError('CONNECTOR_FAILED', `Kafka Connect rejected ${name}: ${body}`);
        }
        throw new TidemarkError(
          'CONNECT_UNAVAILABLE',
          `Kafka Connect answered ${response.status}: ${body}`,
          {
            retriable: true,
          },
        );
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  }

  /** The connector's state and its tasks', or undefined when it is not registered. */
  async status(name: string): Promise<ConnectorStatus | undefined> {
    const response = await this.request('GET', `/connectors/${encodeURIComponent(name)}/status`);
    if (response.status === 404) return undefined;
    if (!response.ok) {
      throw new TidemarkError('CONNECT_UNAVAILABLE', `Kafka Connect answered ${response.status}`, {
        retriable: true,
      });
    }
    const body = (await response.json()) as {
      name: string;
      connector: { state: ConnectorState };
      tasks: { id: number; state: ConnectorState; trace?: string }[];
    };
    return { name: body.name, state: body.connector.state, tasks: body.tasks };
  }

  /** Restarts the connector and its tasks that have FAILED (Kafka Connect 3.0+); false: unknown. */
  async restartFailed(name: string): Promise<boolean> {
    const response = await this.request(
      'POST',
      `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`,
    );
    if (response.status === 404) return false;
    if (!response.ok) {
      throw new TidemarkError('CONNECT_UNAVAILABLE', `Kafka Connect answered ${response.status}`, {
        retriable: true,
      });
    }
    return true;
  }

  /** Waits until the connector and all its tasks run; fails at once if a task has FAILED. */
  async waitUntilRunning(name: string, timeoutMs = 60_000): Promise<ConnectorStatus> {
    return waitFor(
      `connector ${name} to be RUNNING`,
      async () => {
        const status = await this.status(name);
        const failed = status?.tasks.find((task) => task.state === 'FAILED');
        if (failed) {
          throw new TidemarkError(
            'CONNECTOR_FAILED',
            `connector ${name} task ${failed.id} FAILED`,
            {
              context: { trace: failed.trace?.split('\n').slice(0, 5).join('\n') },
            },
          );
        }
        const running =
          status?.state === 'RUNNING' &&
          status.tasks.length > 0 &&
          status.tasks.every((task) => task.state === 'RUNNING');
        return running ? status : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new TidemarkError(
        'CONNECT_UNAVAILABLE',
        `Kafka Connect is not reachable at ${this.baseUrl}`,
        {
          retriable: true,
          cause: error,
        },
      );
    }
  }
}
