import { createDatabase, loadConfig } from '@tidemark/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { ChangelogPartitions } from './changelog-partitions';

// The changelog's day partitions are created by whichever stream transaction needs one first:
// on a new day, every partition's batch asks for the same day at once.

const config = loadConfig();
const CONSUMERS = 6;
const warehouses = Array.from({ length: CONSUMERS }, () => createDatabase(config.warehouse, 1));
const days: string[] = [];

afterAll(async () => {
  for (const day of days) {
    await warehouses[0]?.raw(`DROP TABLE IF EXISTS raw.change_events_${day.replaceAll('-', '')}`);
  }
  await Promise.all(warehouses.map((warehouse) => warehouse.destroy()));
});

/** A day no other test lands changes in, far ahead. */
function unusedDay(): string {
  const day = new Date(Date.UTC(2045, 0, 1) + Math.floor(Math.random() * 3_000) * 86_400_000);
  const text = day.toISOString().slice(0, 10);
  days.push(text);
  return text;
}

describe('the changelog day partitions', () => {
  it('are created once when several consumers ask for the same new days at once', async () => {
    for (let round = 0; round < 5; round += 1) {
      const wanted = [unusedDay(), unusedDay()];
      const asked = await Promise.allSettled(
        warehouses.map((warehouse) => new ChangelogPartitions(warehouse).ensure(wanted)),
      );
      expect(asked.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      const partitions = await warehouses[0]?.raw<{ rows: { name: string }[] }>(
        `SELECT c.relname AS name FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'raw.change_events'::regclass AND c.relname = ANY(?)`,
        [wanted.map((day) => `change_events_${day.replaceAll('-', '')}`)],
      );
      expect(partitions?.rows).toHaveLength(2);
    }
  });
});
