import { createLogger, loadConfig } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import { runDemo } from './demo';

describe('the walking skeleton', () => {
  it('carries orders from shop.orders through Debezium and Kafka to the warehouse and a workflow', async () => {
    const lines: string[] = [];
    await runDemo(loadConfig(), createLogger({ level: 'error' }), (line) => lines.push(line));
    const output = lines.join('\n');
    expect(output).toMatch(/debezium: +tidemark-shop: RUNNING \(task 0 RUNNING\)/);
    expect(output).toContain('wrote 5 orders into shop.orders');
    const journeyRows = output.split('\n').filter((line) => / op=c lsn=\d+ /.test(line));
    expect(journeyRows).toHaveLength(5);
    for (const row of journeyRows) {
      const timings = row.trim().split(/\s+/).slice(-4).map(Number);
      expect(timings.every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
    }
  });
});
