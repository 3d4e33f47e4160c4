import { describe, expect, it } from 'vitest';
import { renderConnectorConfig } from './connect';

describe('renderConnectorConfig', () => {
  it('fills placeholders and leaves other values alone', () => {
    const rendered = renderConnectorConfig(
      { 'database.hostname': '${DB_HOST}', 'database.port': '${DB_PORT}', 'slot.name': 'tidemark' },
      { DB_HOST: 'postgres', DB_PORT: '5432' },
    );
    expect(rendered).toEqual({
      'database.hostname': 'postgres',
      'database.port': '5432',
      'slot.name': 'tidemark',
    });
  });

  it('names the key and the placeholder that is not set', () => {
    expect(() => renderConnectorConfig({ 'database.user': '${DB_USER}' }, {})).toThrow(
      /"database.user" uses \$\{DB_USER\}/,
    );
  });
});
