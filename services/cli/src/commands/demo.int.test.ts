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
    // The streaming cases and the load with its outcome.
    expect(output).toMatch(/retraction: order \w+ cancelled; its minute counts one less/);
    expect(output).toMatch(
      /late: +order \w+ created an hour ago -> ops.late_events \(late_beyond_lateness/,
    );
    expect(output).toMatch(
      /dead letter: order \w+ with currency "euro" -> ops.dead_letters \(CONTRACT_VIOLATION at after.currency\)/,
    );
    expect(output).toMatch(/load: +\d+ operations at \d+\/s/);
    expect(output).toMatch(/late: +\d+ \w+/);
    // The batch half: the day consolidated and published behind a passing gate, every difference
    // explained, then a stricter expectation blocking a second publication.
    expect(output).toMatch(/batch: +run demo-consolidate-\S+: \d+ final values published/);
    expect(output).toContain('gate: passed');
    const total = output.split('\n').find((line) => /^total +\d+/.test(line));
    expect(total?.trim().split(/\s+/).at(-1)).toBe('0');
    expect(output).toMatch(
      /gate: +QUALITY_GATE_FAILED: .*range:shop\.orders\.amount_minor:\.\.10000/,
    );
    expect(output).toMatch(
      /publication blocked; the \d+ values of run demo-consolidate-\S+ stay published/,
    );
  }, 240_000);
});
