import type { Knex } from 'knex';

// What the platform's alerts need beyond the stream's own metrics: how far Debezium's replication
// slot is behind and whether PostgreSQL has lost WAL it needed (read on the source), and whether
// the batch layer has published each day's final values (read on the warehouse). Read when
// Prometheus scrapes the worker; the statements are small and use the catalogue or one index.

/** A logical replication slot on the source, as `pg_replication_slots` shows it. */
export interface SlotHealth {
  slot: string;
  /** A client (Debezium) is streaming from it now. */
  active: boolean;
  /** reserved, extended, unreserved or lost; null before the slot has reserved any WAL. */
  walStatus: string | null;
  /** WAL written since what the slot's client confirmed: what it still has to read. */
  lagBytes: number | null;
  /** WAL that can still be written before the slot is lost (null: no limit set). */
  safeWalSizeBytes: number | null;
}

/** Where the batch layer stands. */
export interface FinalHealth {
  /** Of the last week's days (today's included), how many had their latest finished run end in each status. */
  recentDaysByStatus: Map<string, number>;
  /**
   * For each status a run finished in, the end (epoch ms) of the latest day with such a run: for
   * `published`, how far the final values reach. A status no run ended in has no entry.
   */
  latestDayEndByStatus: Map<string, number>;
}

/** How many days back the latest run of each day is looked at. */
export const RECENT_DAYS = 7;

export async function readSlotHealth(source: Knex): Promise<SlotHealth[]> {
  const { rows } = await source.raw<{
    rows: {
      slot_name: string;
      active: boolean;
      wal_status: string | null;
      lag_bytes: string | null;
      safe_wal_size: string | null;
    }[];
  }>(
    `SELECT slot_name, active, wal_status, safe_wal_size,
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) AS lag_bytes
       FROM pg_replication_slots
      WHERE slot_type = 'logical'
      ORDER BY slot_name`,
  );
  return rows.map((row) => ({
    slot: row.slot_name,
    active: row.active,
    walStatus: row.wal_status,
    lagBytes: row.lag_bytes === null ? null : Number(row.lag_bytes),
    safeWalSizeBytes: row.safe_wal_size === null ? null : Number(row.safe_wal_size),
  }));
}

export async function readFinalHealth(warehouse: Knex): Promise<FinalHealth> {
  // The latest finished run of each recent day decides that day's state: a blocked day that a
  // later run published is published.
  const latest = await warehouse.raw<{ rows: { status: string; days: string }[] }>(
    `SELECT status, count(*) AS days
       FROM (SELECT DISTINCT ON (day) day, status
               FROM final.runs
              WHERE day BETWEEN current_date - ?::integer AND current_date
                AND finished_at IS NOT NULL
              ORDER BY day, finished_at DESC) AS latest
      GROUP BY status`,
    [RECENT_DAYS],
  );
  const ends = await warehouse.raw<{ rows: { status: string; day_end: Date }[] }>(
    `SELECT status, ((max(day) + 1)::timestamp AT TIME ZONE 'UTC') AS day_end
       FROM final.runs WHERE finished_at IS NOT NULL GROUP BY status`,
  );
  return {
    recentDaysByStatus: new Map(latest.rows.map((row) => [row.status, Number(row.days)])),
    latestDayEndByStatus: new Map(ends.rows.map((row) => [row.status, row.day_end.getTime()])),
  };
}
