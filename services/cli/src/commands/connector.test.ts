import { EVENT_CONTRACTS } from '@tidemark/contracts';
import { loadConfig } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { changeTopicsOf, shopConnectorConfig, streamTopologyOf } from './connector';

// A connector config of the tests' own: the shop's may capture more tables than these.
const CAPTURING_TWO_TABLES = {
  'topic.prefix': 'tidemark',
  'table.include.list': 'shop.orders, shop.payments',
  'topic.heartbeat.prefix': 'tidemark.heartbeat',
};

describe('the shop connector config', () => {
  it('is rendered for the configured database host and port', async () => {
    const config = await shopConnectorConfig(
      loadConfig({ TIDEMARK_CONNECT_DB_HOST: 'postgres', TIDEMARK_PG_PORT: '6543' }),
    );
    expect(config['database.hostname']).toBe('postgres');
    expect(config['database.port']).toBe('6543');
    expect(config['plugin.name']).toBe('pgoutput');
    expect(config['publication.autocreate.mode']).toBe('disabled');
  });

  it('names one change topic per captured table', () => {
    expect(changeTopicsOf(CAPTURING_TWO_TABLES)).toEqual([
      'tidemark.shop.orders',
      'tidemark.shop.payments',
    ]);
  });

  it('captures exactly the tables that have an event contract', async () => {
    const config = await shopConnectorConfig(loadConfig({}));
    const captured = [...streamTopologyOf(config).changeTopics.keys()].sort();
    const contracted = [...new Set(EVENT_CONTRACTS.map((contract) => contract.table))].sort();
    expect(captured).toEqual(contracted);
  });

  it('needs a topic prefix and a table list', () => {
    expect(() => changeTopicsOf({ 'topic.prefix': 'x' })).toThrow(
      /topic.prefix and table.include.list/,
    );
  });

  it('derives the stream topology: change topics per table, heartbeat and DLQ topics', async () => {
    const topology = streamTopologyOf(CAPTURING_TWO_TABLES);
    expect([...topology.changeTopics]).toEqual([
      ['shop.orders', 'tidemark.shop.orders'],
      ['shop.payments', 'tidemark.shop.payments'],
    ]);
    expect(topology.heartbeatTopic).toBe('tidemark.heartbeat.tidemark');
    expect(topology.deadLetterTopic).toBe('tidemark.dlq');
  });
});
