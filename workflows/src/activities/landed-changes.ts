import type { Knex } from 'knex';

/** One change as the raw changelog holds it, with the time of each hop it took. */
export interface LandedChangeSummary {
  op: string;
  lsn: string;
  committedAt: string;
  kafkaTimestamp: string;
  landedAt: string;
  after: Record<string, unknown> | null;
}

export interface ActivityDependencies {
  warehouse: Knex;
}

/** The activities of the tidemark worker, bound to their dependencies. */
export function createActivities({ warehouse }: ActivityDependencies) {
  return {
    /** The changes of one row landed in the raw changelog, oldest first. */
    async findLandedChanges(input: {
      table: string;
      primaryKey: Record<string, unknown>;
    }): Promise<LandedChangeSummary[]> {
      const rows = await warehouse('raw.change_events')
        .select('op', 'lsn', 'committed_at', 'kafka_timestamp', 'landed_at', 'after')
        .where({ source_table: input.table })
        .whereRaw('primary_key = ?::jsonb', [JSON.stringify(input.primaryKey)])
        .orderBy('lsn');
      return rows.map((row) => ({
        op: row.op,
        lsn: String(row.lsn),
        committedAt: new Date(row.committed_at).toISOString(),
        kafkaTimestamp: new Date(row.kafka_timestamp).toISOString(),
        landedAt: new Date(row.landed_at).toISOString(),
        after: row.after,
      }));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
