// The pipeline's CPU per change for encoding a batch's changelog rows for COPY, in memory
// (docs/stream-design.md, "Landing"): the batch's text as one buffer (the landing before
// 2026-12-07) against the same text in chunks of whole lines (`changelogCopyChunks`), and
// `toISOString` against `copyTimestamp` for the three timestamps of a change. Rows shaped like
// the shop's order updates, a batch of 4,900; alternated rounds.
// Run: npx tsx bench/design/copy-encoding.ts
import {
  changelogCopyChunks,
  changelogCopyText,
  copyTimestamp,
  type LandedChange,
} from '@tidemark/stream';

const BATCH = 4_900;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REPEAT = 100;

const rows: LandedChange[] = Array.from({ length: BATCH }, (_, index) => {
  const at = 1_800_000_000_000 + index * 37;
  const after = {
    id: `0b6f5a4e-1d2c-4e8f-9a3b-${String(index).padStart(12, '0')}`,
    customer_id: `customer-${index % 50_000}`,
    currency: 'EUR',
    status: 'paid',
    amount_minor: 1_000 + index,
    channel: 'web',
    created_at: new Date(at).toISOString(),
    updated_at: new Date(at).toISOString(),
  };
  return {
    source_table: 'shop.orders',
    op: index % 3 === 0 ? 'c' : 'u',
    primary_key: { id: after.id },
    lsn: 123_456_789 + index,
    tx_id: 5_000 + index,
    committed_at: new Date(at),
    captured_at: new Date(at + 100),
    before: index % 3 === 0 ? null : { ...after, status: 'pending' },
    after,
    contract_version: 2,
    kafka_topic: 'tidemark.shop.orders',
    kafka_partition: index % 3,
    kafka_offset: String(100_000 + index),
    kafka_timestamp: new Date(at + 200),
  };
});

function microsPerRow(run: () => unknown): number {
  for (let warm = 0; warm < 10; warm += 1) run();
  const start = process.cpuUsage();
  for (let repeat = 0; repeat < REPEAT; repeat += 1) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / REPEAT / BATCH;
}

const steps: [string, () => unknown][] = [
  ['COPY text as one buffer', () => Buffer.from(changelogCopyText(rows))],
  ['COPY text in chunks', () => changelogCopyChunks(rows)],
  [
    '3 timestamps, toISOString',
    () =>
      rows.map(
        (row) =>
          row.committed_at.toISOString() +
          row.captured_at.toISOString() +
          row.kafka_timestamp.toISOString(),
      ),
  ],
  [
    '3 timestamps, copyTimestamp',
    () =>
      rows.map(
        (row) =>
          copyTimestamp(row.committed_at) +
          copyTimestamp(row.captured_at) +
          copyTimestamp(row.kafka_timestamp),
      ),
  ],
];
for (let round = 1; round <= ROUNDS; round += 1) {
  for (const [label, run] of steps) {
    process.stdout.write(
      `round ${round}  ${label.padEnd(30)} ${microsPerRow(run).toFixed(2)} µs per change\n`,
    );
  }
}
