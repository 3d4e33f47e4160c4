import type { Knex } from 'knex';

// The WAL the PostgreSQL server writes while the pipeline reads the range: a measure of the
// warehouse's work that does not drift with the machine's speed the way CPU time does (the
// same code gave CPU per change 30 % apart within an hour, and WAL records within 7 %). The
// server is shared with the source database, idle in that phase but for Debezium's heartbeats.

/** pg_stat_wal's counters. */
export interface WalCounters {
  records: number;
  fullPageImages: number;
  bytes: number;
}

/** WAL per change, over a phase. */
export type WalPerChange = WalCounters;

/** The server's WAL counters now; null when pg_stat_wal cannot be read. */
export async function readWal(db: Knex): Promise<WalCounters | null> {
  try {
    const { rows } = await db.raw<{
      rows: { records: string; full_page_images: string; bytes: string }[];
    }>(
      `SELECT wal_records AS records, wal_fpi AS full_page_images, wal_bytes AS bytes
         FROM pg_stat_wal`,
    );
    const row = rows[0];
    return row
      ? {
          records: Number(row.records),
          fullPageImages: Number(row.full_page_images),
          bytes: Number(row.bytes),
        }
      : null;
  } catch {
    return null;
  }
}

/** Starts counting; `stop` gives the WAL written since, or null when it could not be read. */
export async function walMeter(db: Knex): Promise<{ stop(): Promise<WalCounters | null> }> {
  const before = await readWal(db);
  return {
    async stop() {
      const after = await readWal(db);
      return before && after ? walBetween(before, after) : null;
    },
  };
}

/** What was written between two readings (a reset meanwhile reads as nothing measured). */
export function walBetween(before: WalCounters, after: WalCounters): WalCounters | null {
  const written = {
    records: after.records - before.records,
    fullPageImages: after.fullPageImages - before.fullPageImages,
    bytes: after.bytes - before.bytes,
  };
  return Object.values(written).some((value) => value < 0) ? null : written;
}

/** WAL per change of a phase; null when unmeasured or nothing was processed. */
export function walPerChangeOf(written: WalCounters | null, changes: number): WalPerChange | null {
  if (written === null || changes <= 0) return null;
  const per = (value: number, digits: number) => Number((value / changes).toFixed(digits));
  return {
    records: per(written.records, 1),
    fullPageImages: per(written.fullPageImages, 3),
    bytes: per(written.bytes, 0),
  };
}
