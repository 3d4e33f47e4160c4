import { createDatabase, createKafka, createLogger, loadConfig } from '@tidemark/runtime';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { streamAdminCommand } from './stream-admin';

// `tidemark stream gaps` and `tidemark stream reset` against the warehouse and Kafka, for a
// pipeline of this test's own: its state is written directly, and a real consumer joins its
// consumer group to stand for a running pipeline.

const config = loadConfig();
const warehouse = createDatabase(config.warehouse, 2);
const logger = createLogger({ level: 'error', fields: { service: 'stream-admin-int' } });
const kafka = createKafka(config, 'stream-admin-int', logger);
const pipeline = `stream-admin-int-${randomUUID().slice(0, 8)}`;

async function command(argv: { action: 'gaps' | 'reset'; yes?: boolean }) {
  const lines: string[] = [];
  const code = await streamAdminCommand(
    argv.action === 'gaps'
      ? { action: 'gaps', pipeline, limit: 100, json: false }
      : { action: 'reset', pipeline, yes: argv.yes ?? false },
    { warehouse, kafka, print: (line) => lines.push(line) },
  );
  return { code, output: lines.join('\n') };
}

afterAll(async () => {
  await warehouse('ops.stream_gaps').where({ pipeline }).delete();
  await warehouse('ops.consumer_offsets').where({ group_id: pipeline }).delete();
  await warehouse.destroy();
});

describe('tidemark stream gaps and reset on the live stack', () => {
  it('lists a recorded gap, refuses to reset a running pipeline, and resets a stopped one', async () => {
    await warehouse('ops.consumer_offsets').insert({
      group_id: pipeline,
      topic: 'tidemark.shop.orders',
      partition: 0,
      next_offset: 42,
      first_offset: 0,
    });
    await warehouse('ops.stream_gaps').insert({
      pipeline,
      topic: 'tidemark.shop.orders',
      partition: 0,
      missing_from: 30,
      missing_until: 40,
      max_event_time_ms: Date.parse('2026-11-30T12:00:00Z'),
    });

    const gaps = await command({ action: 'gaps' });
    expect(gaps.code).toBe(0);
    expect(gaps.output).toMatch(
      new RegExp(`${pipeline} +tidemark\\.shop\\.orders/0 +10 +30\\.\\.39 +2026-11-30 12:00:00`),
    );

    // A consumer in the pipeline's group: the pipeline is running.
    const topic = `${pipeline}-topic`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const consumer = kafka.consumer({ groupId: pipeline });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
      await consumer.run({ eachMessage: async () => undefined });
      for (let waited = 0; !joined && waited < 30_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const refused = await command({ action: 'reset', yes: true });
      expect(refused.code).toBe(1);
      expect(refused.output).toContain(`pipeline ${pipeline} is running (1 member(s)`);
      expect(await warehouse('ops.stream_gaps').where({ pipeline })).toHaveLength(1);
    } finally {
      await consumer.disconnect();
    }

    const preview = await command({ action: 'reset' });
    expect(preview.code).toBe(0);
    expect(preview.output).toMatch(/ops\.consumer_offsets +1/);
    expect(preview.output).toMatch(/ops\.stream_gaps +1/);
    expect(preview.output).toContain('nothing changed: pass --yes');
    expect(await warehouse('ops.stream_gaps').where({ pipeline })).toHaveLength(1);

    const reset = await command({ action: 'reset', yes: true });
    expect(reset.code).toBe(0);
    expect(await warehouse('ops.stream_gaps').where({ pipeline })).toHaveLength(0);
    expect(await warehouse('ops.consumer_offsets').where({ group_id: pipeline })).toHaveLength(0);
    const { groups } = await admin.listGroups();
    expect(groups.map((group) => group.groupId)).not.toContain(pipeline);
    expect((await command({ action: 'gaps' })).output).toContain('no gaps');

    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
});
