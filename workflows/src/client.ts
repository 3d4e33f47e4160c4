import { Client, Connection } from '@temporalio/client';
import type { Config } from '@tidemark/runtime';

/** A Temporal client on the configured server and namespace; close its connection when done. */
export async function createTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
