/** One backend of the pipeline's database user, as pg_stat_activity showed it at one instant. */
export interface ActivitySample {
  state: string;
  waitEventType: string | null;
  /** What exactly it waits on, e.g. `DataFileExtend` (of type `IO`). */
  waitEvent?: string | null;
  query: string;
}

/** A statement's share of the sampled time. */
export interface StatementShare {
  statement: string;
  share: number;
}

/** Where a pipeline's warehouse work went, from periodic samples of pg_stat_activity. */
export interface SqlProfile {
  ticks: number;
  /** Ticks where some transaction was open: PostgreSQL working or waiting for the client. */
  inTransactionShare: number;
  /** PostgreSQL executing a statement, by statement and, when it waited, on what (`[Lock:transactionid wait]`). */
  inPostgres: StatementShare[];
  /** In a transaction waiting for its client (node planning, serialising), by last statement. */
  inClient: StatementShare[];
}

const STATEMENT =
  /^\s*(insert\s+into|update|delete\s+from|copy|select\b[\s\S]*?\bfrom)\s+([\w".]+)/i;
const CALL = /^\s*select\s+([\w".]+)\s*\(/i;

/** A short name for a SQL statement: its verb and table, e.g. `insert raw.change_events`. */
export function statementLabel(query: string): string {
  const call = CALL.exec(query);
  if (call) return `select ${unquote(call[1] ?? '')}()`;
  const match = STATEMENT.exec(query);
  if (match) {
    const verb = (match[1] ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    return `${verb} ${unquote(match[2] ?? '')}`;
  }
  return query.trim().replace(/;$/, '').split(/\s+/).slice(0, 3).join(' ').toLowerCase();
}

/**
 * Summarises ticks of pg_stat_activity (each the non-idle backends at one instant): the share
 * of ticks each statement was running in PostgreSQL, or was the last one before the client
 * kept its transaction waiting. Shares are of all ticks, so they add up to at most the number
 * of concurrent transactions.
 */
export function summarizeActivity(ticks: readonly (readonly ActivitySample[])[]): SqlProfile {
  const inPostgres = new Map<string, number>();
  const inClient = new Map<string, number>();
  let inTransaction = 0;
  for (const tick of ticks) {
    if (tick.length > 0) inTransaction += 1;
    for (const sample of tick) {
      const active = sample.state === 'active';
      // A statement waiting on a lock (another transaction's row, say) is not working.
      const event = sample.waitEvent ? `:${sample.waitEvent}` : '';
      const waiting =
        active && sample.waitEventType ? ` [${sample.waitEventType}${event} wait]` : '';
      const label = statementLabel(sample.query) + waiting;
      const target = active ? inPostgres : inClient;
      target.set(label, (target.get(label) ?? 0) + 1);
    }
  }
  const shares = (counts: Map<string, number>) =>
    [...counts]
      .map(([statement, count]) => ({ statement, share: ticks.length ? count / ticks.length : 0 }))
      .sort((a, b) => b.share - a.share);
  return {
    ticks: ticks.length,
    inTransactionShare: ticks.length ? inTransaction / ticks.length : 0,
    inPostgres: shares(inPostgres),
    inClient: shares(inClient),
  };
}

function unquote(name: string): string {
  return name.replaceAll('"', '');
}

/** Backends seen waiting on a lock (PostgreSQL's heavyweight locks), over every tick. */
export interface LockWaits {
  /** Backend samples waiting on a lock: 0 when no transaction ever waited for another's. */
  samples: number;
  /** Those samples by what was waited on: `transactionid` (a row another transaction wrote), `tuple`, `extend`, `advisory`, ... */
  byEvent: Record<string, number>;
  ticks: number;
}

export function lockWaitsOf(ticks: readonly (readonly ActivitySample[])[]): LockWaits {
  const byEvent: Record<string, number> = {};
  let samples = 0;
  for (const tick of ticks) {
    for (const sample of tick) {
      if (sample.state !== 'active' || sample.waitEventType !== 'Lock') continue;
      samples += 1;
      const event = sample.waitEvent ?? 'unknown';
      byEvent[event] = (byEvent[event] ?? 0) + 1;
    }
  }
  return { samples, byEvent, ticks: ticks.length };
}
