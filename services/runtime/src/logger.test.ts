import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

describe('createLogger', () => {
  it('writes one JSON object per line with inherited fields, above the level only', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(line) }).child({
      partition: 2,
    });
    logger.debug('hidden');
    logger.info('batch landed', { events: 10 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      message: 'batch landed',
      partition: 2,
      events: 10,
    });
  });
});
