import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { readFinalHealth, readSlotHealth, RECENT_DAYS } from './platform-health';

// What the worker's /metrics reads, on the real stack: Debezium's replication slot on the source
// (as the worker's own role, which reads only the captured tables), and the final days' state
// on the warehouse.

const config = loadConfig();
const sourceReader = createDatabase(config.sourceReader, 1);
const warehouse = createDatabase(config.warehouse, 2);

afterAll(async () => {
  await Promise.all([sourceReader.destroy(), warehouse.destroy()]);
});

describe('platform health', () => {
  it("reads Debezium's slot as the worker's role: streamed from, WAL kept, lag known", async () => {
    const slots = await readSlotHealth(sourceReader);
    const shop = slots.find((slot) => slot.slot === 'tidemark_shop');
    expect(shop).toBeDefined();
    expect(shop?.active).toBe(true);
    expect(['reserved', 'extended']).toContain(shop?.walStatus);
    expect(shop?.lagBytes).toBeGreaterThanOrEqual(0);
  });

  it("counts each recent day by its latest finished run, and how far each status's days reach", async () => {
    const trx = await warehouse.transaction();
    try {
      const day = async (offset: number) =>
        (
          await trx.raw<{ rows: { day: string }[] }>(
            'SELECT (current_date + ?::integer)::text AS day',
            [offset],
          )
        ).rows[0]!.day;
      const run = async (offset: number, status: string, finishedSecondsAgo: number | null) =>
        trx('final.runs').insert({
          run_id: `platform-health-${randomUUID()}`,
          workflow_id: 'platform-health-test',
          day: await day(offset),
          range_start: trx.raw('now()'),
          range_end: trx.raw('now()'),
          cutoff: trx.raw('now()'),
          reason: 'platform health test',
          status,
          finished_at:
            finishedSecondsAgo === null
              ? null
              : trx.raw('now() - make_interval(secs => ?)', [finishedSecondsAgo]),
        });
      const before = await readFinalHealth(trx);
      // Yesterday blocked, then published by a later run; two days ago blocked; three days ago
      // incomplete; four days ago still computing; a day ahead (a clock gone wrong) not counted.
      await run(-1, 'blocked', 600);
      await run(-1, 'published', 60);
      await run(-2, 'published', 600);
      await run(-2, 'blocked', 60);
      await run(-3, 'incomplete', 60);
      await run(-(RECENT_DAYS + 1), 'blocked', 60);
      await run(-4, 'computing', null);
      await run(2, 'blocked', 60);
      const after = await readFinalHealth(trx);

      // What each recent day counts as, from every finished run, in plain code.
      const runs = (
        await trx.raw<{ rows: { day: string; status: string; finished_at: Date }[] }>(
          `SELECT day::text AS day, status, finished_at FROM final.runs
          WHERE finished_at IS NOT NULL
            AND day BETWEEN current_date - ?::integer AND current_date`,
          [RECENT_DAYS],
        )
      ).rows;
      const latest = new Map<string, { status: string; at: number }>();
      for (const row of runs) {
        const seen = latest.get(row.day);
        if (!seen || row.finished_at.getTime() > seen.at) {
          latest.set(row.day, { status: row.status, at: row.finished_at.getTime() });
        }
      }
      const expected = new Map<string, number>();
      for (const { status } of latest.values())
        expected.set(status, (expected.get(status) ?? 0) + 1);
      expect(after.recentDaysByStatus).toEqual(expected);
      expect(after.recentDaysByStatus.get('blocked') ?? 0).toBeGreaterThanOrEqual(1);
      expect(after.recentDaysByStatus.get('incomplete') ?? 0).toBeGreaterThanOrEqual(1);

      const dayEnd = async (offset: number) => Date.parse(`${await day(offset + 1)}T00:00:00Z`);
      expect(after.latestDayEndByStatus.get('published')).toBe(
        Math.max(before.latestDayEndByStatus.get('published') ?? 0, await dayEnd(-1)),
      );
      expect(after.latestDayEndByStatus.get('blocked')).toBe(await dayEnd(2));
      expect(after.latestDayEndByStatus.has('computing')).toBe(false);
    } finally {
      await trx.rollback();
    }
  });
});
