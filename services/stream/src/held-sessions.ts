import type { MetricDefinition } from '@tidemark/contracts';
import type { Knex } from 'knex';
import { stateOf, STORED_STATE_COLUMNS } from './session-store';
import type { Accumulator } from './windowing/accumulator';
import { defersSessionRows, heldSessions } from './windowing/session-rows';
import { sessionAccumulator } from './windowing/sessions';

/**
 * The provisional values of sessions still held in their key's state: a metric emitted on window
 * close writes a session's row only once it is due (`windowing/session-rows.ts`), so the open
 * sessions of `provisional.metric_values` are these. Readers comparing or listing provisional
 * values (the reconciliation, the demo, tests) add them to the rows; each is the row it will be.
 */
export interface HeldSession {
  metric: string;
  groupKey: string;
  keyValues: unknown[];
  windowStart: Date;
  windowEnd: Date;
  accumulator: Accumulator;
}

/** What to read: sessions starting in [from, to), of keys whose group key starts with a prefix. */
export interface HeldSessionFilter {
  from?: Date;
  to?: Date;
  groupKeyPrefix?: string;
}

export async function readHeldSessions(
  db: Knex | Knex.Transaction,
  pipeline: string,
  metrics: readonly MetricDefinition[],
  filter: HeldSessionFilter = {},
): Promise<HeldSession[]> {
  const held: HeldSession[] = [];
  for (const metric of metrics) {
    if (metric.window.kind !== 'session' || !defersSessionRows(metric)) continue;
    const { gapMs } = metric.window;
    const query = db('stream.session_state')
      // Keys with a session that has no row (state stored before rows were deferred has them all).
      .where({ pipeline, metric: metric.name })
      .whereNotNull('due_from_ms');
    if (filter.groupKeyPrefix !== undefined) {
      void query.whereLike('group_key', `${escapeLike(filter.groupKeyPrefix)}%`);
    }
    const rows = await query.select(...STORED_STATE_COLUMNS);
    for (const row of rows) {
      const state = stateOf(row);
      for (const session of heldSessions(state, gapMs)) {
        if (filter.from !== undefined && session.startMs < filter.from.getTime()) continue;
        if (filter.to !== undefined && session.startMs >= filter.to.getTime()) continue;
        held.push({
          metric: metric.name,
          groupKey: row.group_key,
          keyValues: row.key_values,
          windowStart: new Date(session.startMs),
          windowEnd: new Date(session.endMs),
          accumulator: sessionAccumulator(metric.aggregate, session),
        });
      }
    }
  }
  return held;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
