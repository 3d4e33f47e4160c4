import { createDatabase, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LandedChange } from './landing';
import { writeLandingBatch } from './landing-sink';

// The changelog is landed with COPY, and falls back to an insert that skips what is already
// there: checked on the real warehouse, with the changelog's real unique key and partitions.

const warehouse = createDatabase(loadConfig().warehouse, 2);
const topic = `landing-int-${randomUUID()}`;
const DAY = '2031-03-04';
let lsn = 1_000;

function change(after: Record<string, unknown>, overrides: Partial<LandedChange> = {}) {
  lsn += 1;
  const row: LandedChange = {
    source_table: 'shop.orders',
    op: 'c',
    primary_key: { id: randomUUID() },
    lsn,
    tx_id: lsn,
    committed_at: new Date(`${DAY}T10:00:00.123Z`),
    captured_at: new Date(`${DAY}T10:00:00.456Z`),
    before: null,
    after,
    contract_version: 2,
    kafka_topic: topic,
    kafka_partition: 0,
    kafka_offset: String(lsn),
    kafka_timestamp: new Date(`${DAY}T10:00:00.789Z`),
    ...overrides,
  };
  return row;
}

async function landedRows() {
  return warehouse('raw.change_events')
    .where({ kafka_topic: topic })
    .orderBy('lsn')
    .select('primary_key', 'lsn', 'tx_id', 'before', 'after', 'committed_at', 'kafka_offset');
}

beforeAll(async () => {
  await warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [[DAY]]);
});

afterAll(async () => {
  await warehouse('raw.change_events').where({ kafka_topic: topic }).delete();
  await warehouse.destroy();
});

describe('landing the changelog', () => {
  it('stores every field as given, images with awkward text included', async () => {
    const awkward = {
      note: 'tab\there, newline\nthere, back\\slash, "quotes", \\N, é, 😀',
      nested: { list: [1, '2', null, { deep: '\r' }] },
    };
    const rows = [change(awkward), change({ plain: 1 }, { tx_id: null, op: 'r' })];
    const result = await writeLandingBatch(warehouse, rows, []);
    expect(result).toEqual({ landed: 2, deadLettered: 0, alreadyLanded: false });
    const stored = await landedRows();
    expect(stored).toEqual(
      rows.map((row) => ({
        primary_key: row.primary_key,
        lsn: String(row.lsn),
        tx_id: row.tx_id === null ? null : String(row.tx_id),
        before: null,
        after: row.after,
        committed_at: row.committed_at,
        kafka_offset: row.kafka_offset,
      })),
    );
  });

  it('lands only what is new when part of a batch is already there, in the same transaction', async () => {
    const landedBefore = (await landedRows()).length;
    const first = [change({ n: 1 }), change({ n: 2 })];
    await writeLandingBatch(warehouse, first, []);
    // Debezium re-sends the first two after its restart, at new offsets, with a third.
    const resent = first.map((row) => ({
      ...row,
      kafka_offset: String(Number(row.kafka_offset) + 500),
    }));
    const batch = [...resent, change({ n: 3 })];
    const result = await warehouse.transaction(async (trx) => {
      const landing = await writeLandingBatch(trx, batch, []);
      // The refused copy did not abort the transaction: it goes on and commits.
      const [{ count }] = (await trx('raw.change_events')
        .where({ kafka_topic: topic })
        .count({ count: '*' })) as [{ count: string }];
      return { landing, count: Number(count) };
    });
    expect(result.landing).toEqual({ landed: 1, deadLettered: 0, alreadyLanded: true });
    expect(result.count).toBe(landedBefore + 3);
    expect((await landedRows()).map((row) => row.after)).toEqual(
      expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]),
    );
  });

  it('fails the batch on any other refusal, naming it', async () => {
    const undated = change({ n: 4 }, { committed_at: new Date('2099-01-01T00:00:00Z') });
    await expect(writeLandingBatch(warehouse, [undated], [])).rejects.toThrow(
      /no partition of relation "change_events" found for row/,
    );
  });
});
