import type { MetricDefinition } from '@tidemark/contracts';
import type { Row } from '@tidemark/contracts';
import {
  contributionOf,
  windowsFor,
  type Accumulator,
  type MeasureValue,
} from '@tidemark/stream/windowing';
import { readHeldSessions } from '@tidemark/stream';
import type { Knex } from 'knex';
import {
  attributeFixedWindow,
  attributeSessions,
  sameWindowValue,
  sessionWindowId,
  type Attribution,
  type KeptOutContribution,
  type SessionWindow,
} from '../consolidation/attribution';
import {
  CONSOLIDATION_WORK_MEM,
  eventRangeOf,
  eventRangeStateSql,
  finalEventsSql,
  type ConsolidationRange,
} from '../consolidation/final-metric-sql';
import { RECONCILIATION_CAUSES, type ReconciliationCause } from '../consolidation/reconcile';
import { preStartChangesSql } from '../consolidation/unobserved-sql';
import { selectMetrics, type ConsolidationRun } from './run';

/**
 * Windows per cause, and the windows left out because they started before the stream pipeline
 * observed the changelog (nothing provisional to compare them with).
 */
export type ReconciliationCounts = Record<ReconciliationCause, number> & { unobserved: number };

/** One (metric, window, key) with both sides, as the comparison reads it. */
interface ComparedWindow {
  metric: string;
  window_start: Date;
  window_end: Date;
  key_values: unknown[];
  provisional: string | null;
  accumulator: Accumulator | null;
  final: string | null;
  unobserved: boolean;
}

/** A late-ledger row of a key with a difference. */
interface LedgerRow {
  key_values: unknown[];
  window_start: Date | null;
  window_end: Date | null;
  event_time: Date | null;
  measure: MeasureValue;
  sign: number;
  reason: string;
  source_table: string;
  replayed: boolean;
}

const numeric = (value: string | null) => (value === null ? null : Number(value));
const keyOf = (keyValues: unknown) => JSON.stringify(keyValues);

/** Items grouped by the key they belong to (`keyOf` of its values). */
function groupedByKey<Row, Item>(
  rows: readonly Row[],
  keyValuesOf: (row: Row) => unknown,
  itemOf: (row: Row) => Item,
): Map<string, Item[]> {
  const byKey = new Map<string, Item[]>();
  for (const row of rows) {
    const key = keyOf(keyValuesOf(row));
    const list = byKey.get(key) ?? [];
    list.push(itemOf(row));
    byKey.set(key, list);
  }
  return byKey;
}

/**
 * The reconciliation of a run: every (metric, window, key) of the stream's provisional values
 * against the run's staged final ones, each difference attributed to the contributions the
 * stream kept out (`consolidation/attribution.ts`), stored in audit.reconciliation.
 */
export function createReconciliationActivities(deps: {
  warehouse: Knex;
  pipeline: string;
  metrics: readonly MetricDefinition[];
}) {
  const { warehouse } = deps;
  return {
    async reconcile(run: ConsolidationRun): Promise<ReconciliationCounts> {
      const selected = selectMetrics(run.metrics, deps.metrics);
      const range: ConsolidationRange = {
        start: new Date(run.rangeStart),
        end: new Date(run.rangeEnd),
        cutoff: new Date(run.cutoff),
      };
      const pipeline = run.pipeline ?? deps.pipeline;
      const compared = await compareWindows(warehouse, pipeline, run, selected, range);
      const counts = Object.fromEntries([
        ...RECONCILIATION_CAUSES.map((cause) => [cause, 0]),
        ['unobserved', 0],
      ]) as ReconciliationCounts;
      const audited: Record<string, unknown>[] = [];
      // Metrics of one table over the same event range share what the pipeline never applied.
      const unseen = new Map<string, Promise<UnseenChange[]>>();
      const unseenOf = (metric: MetricDefinition) => {
        const { from, to } = eventRangeOf(metric, range);
        const id = [metric.source.table, metric.eventTimeField, +from, +to].join('\u0000');
        const loaded = unseen.get(id) ?? unseenChanges(warehouse, pipeline, metric, range);
        unseen.set(id, loaded);
        return loaded;
      };
      for (const metric of selected) {
        const rows = compared.filter((row) => row.metric === metric.name);
        const verdicts = await attributeMetric(warehouse, pipeline, metric, range, rows, unseenOf);
        for (const row of rows) {
          if (row.unobserved) {
            counts.unobserved += 1;
            continue;
          }
          const provisional = numeric(row.provisional);
          const final = numeric(row.final);
          const verdict = verdicts.get(row) ?? { cause: 'exact', explanation: null };
          counts[verdict.cause] += 1;
          audited.push({
            run_id: run.runId,
            metric: row.metric,
            window_start: row.window_start,
            window_end: row.window_end,
            key_values: JSON.stringify(row.key_values),
            provisional,
            final,
            difference: provisional === null || final === null ? null : final - provisional,
            cause: verdict.cause,
            explanation: verdict.explanation,
          });
        }
      }
      await warehouse.transaction(async (trx) => {
        await trx('audit.reconciliation').where({ run_id: run.runId }).delete();
        for (let start = 0; start < audited.length; start += 2_000) {
          await trx('audit.reconciliation').insert(audited.slice(start, start + 2_000));
        }
      });
      return counts;
    },
  };
}

/**
 * Both sides of every window of the range, full-joined on (metric, window, key), with whether
 * the pipeline saw only part of it: windows touched by changes committed before it started at
 * the topics' end have no comparable provisional side; a pipeline that never ran saw nothing.
 */
async function compareWindows(
  warehouse: Knex,
  pipeline: string,
  run: ConsolidationRun,
  selected: readonly MetricDefinition[],
  range: ConsolidationRange,
): Promise<ComparedWindow[]> {
  const observation = await warehouse('stream.pipelines')
    .where({ pipeline })
    .first('observed_from');
  const observedFrom: Date | null = observation?.observed_from ?? null;
  const preStart = observedFrom
    ? preStartChangesSql(selected, range, new Date(observedFrom))
    : {
        sql: `SELECT NULL::text AS metric, NULL::jsonb AS key_values,
                     NULL::timestamptz AS first_event, NULL::timestamptz AS last_event,
                     NULL::interval AS reach WHERE false`,
        bindings: [],
      };
  // The missed changes go to an indexed temporary table: each compared window looks its key's
  // up by index instead of scanning all of them.
  return warehouse.transaction(async (trx) => {
    await trx.raw(`SET LOCAL work_mem = '${CONSOLIDATION_WORK_MEM}'`);
    await trx.raw(`CREATE TEMPORARY TABLE pre_start ON COMMIT DROP AS ${preStart.sql}`, [
      ...preStart.bindings,
    ]);
    await trx.raw('CREATE INDEX ON pre_start (metric, key_values, last_event)');
    await trx.raw('ANALYZE pre_start');
    await createHeldSessions(trx, pipeline, selected, run);
    const result = await trx.raw<{ rows: ComparedWindow[] }>(
      `WITH final AS (
         SELECT metric, window_start, window_end, key_values, value
           FROM final.staged_values WHERE run_id = ?
       ), provisional AS (
         SELECT p.metric, p.window_start, p.window_end, p.key_values, p.accumulator,
                stream.accumulator_value(m.fn, p.accumulator) AS value
           FROM (SELECT metric, window_start, window_end, key_values, accumulator
                   FROM provisional.metric_values
                  WHERE pipeline = ? AND window_start >= ? AND window_start < ?
                 UNION ALL
                 SELECT metric, window_start, window_end, key_values, accumulator
                   FROM held_sessions) AS p
           JOIN unnest(?::text[], ?::text[]) AS m(metric, fn) ON m.metric = p.metric
       )
       SELECT COALESCE(f.metric, p.metric) AS metric,
              COALESCE(f.window_start, p.window_start) AS window_start,
              COALESCE(f.window_end, p.window_end) AS window_end,
              COALESCE(f.key_values, p.key_values) AS key_values,
              p.value AS provisional, p.accumulator, f.value AS final,
              ?::boolean OR EXISTS (
                SELECT 1 FROM pre_start
                 WHERE pre_start.metric = COALESCE(f.metric, p.metric)
                   AND pre_start.key_values = COALESCE(f.key_values, p.key_values)
                   AND pre_start.first_event < COALESCE(f.window_end, p.window_end)
                   AND pre_start.last_event >= COALESCE(f.window_start, p.window_start) - pre_start.reach
              ) AS unobserved
         FROM final f
         FULL JOIN provisional p USING (metric, window_start, window_end, key_values)
        ORDER BY 1, 2, 3`,
      [
        run.runId,
        pipeline,
        run.rangeStart,
        run.rangeEnd,
        selected.map((metric) => metric.name),
        selected.map((metric) => metric.aggregate.fn),
        !observation,
      ],
    );
    return result.rows;
  });
}

/**
 * The provisional side's open sessions that have no row yet (`readHeldSessions`: a metric
 * emitted on window close writes a session's row when it is due), as a temporary table beside
 * the rows.
 */
async function createHeldSessions(
  trx: Knex.Transaction,
  pipeline: string,
  selected: readonly MetricDefinition[],
  run: ConsolidationRun,
): Promise<void> {
  await trx.raw(`
    CREATE TEMPORARY TABLE held_sessions (metric text, window_start timestamptz,
      window_end timestamptz, key_values jsonb, accumulator jsonb) ON COMMIT DROP`);
  const held = await readHeldSessions(trx, pipeline, selected, {
    from: new Date(run.rangeStart),
    to: new Date(run.rangeEnd),
  });
  for (let start = 0; start < held.length; start += HELD_SESSIONS_PER_INSERT) {
    const chunk = held.slice(start, start + HELD_SESSIONS_PER_INSERT);
    await trx.raw(
      `INSERT INTO held_sessions
         SELECT * FROM unnest(?::text[], ?::timestamptz[], ?::timestamptz[], ?::jsonb[], ?::jsonb[])`,
      [
        chunk.map((session) => session.metric),
        chunk.map((session) => session.windowStart.toISOString()),
        chunk.map((session) => session.windowEnd.toISOString()),
        chunk.map((session) => JSON.stringify(session.keyValues)),
        chunk.map((session) => JSON.stringify(session.accumulator)),
      ],
    );
  }
}

const HELD_SESSIONS_PER_INSERT = 10_000;

/**
 * The verdict of every window of one metric that differs (windows absent from the map are
 * exact): the keys with a difference get their kept-out contributions, and for sessions the
 * final events behind them, loaded once per metric.
 */
async function attributeMetric(
  warehouse: Knex,
  pipeline: string,
  metric: MetricDefinition,
  range: ConsolidationRange,
  rows: readonly ComparedWindow[],
  unseenOf: (metric: MetricDefinition) => Promise<UnseenChange[]>,
): Promise<Map<ComparedWindow, Attribution>> {
  const verdicts = new Map<ComparedWindow, Attribution>();
  const differing = rows.filter(
    (row) => !row.unobserved && !sameWindowValue(numeric(row.provisional), numeric(row.final)),
  );
  if (differing.length === 0) return verdicts;
  const keys = [...new Map(differing.map((row) => [keyOf(row.key_values), row.key_values]))];
  const keptOut = await keptOutOf(
    warehouse,
    pipeline,
    metric,
    range,
    keys.map(([, key]) => key),
  );
  for (const [key, unseen] of unseenContributions(metric, await unseenOf(metric))) {
    if (!keys.some(([known]) => known === key)) continue;
    keptOut.set(key, [...(keptOut.get(key) ?? []), ...unseen]);
  }
  const { window } = metric;

  if (window.kind !== 'session') {
    for (const row of differing) {
      const startMs = row.window_start.getTime();
      const endMs = row.window_end.getTime();
      const inWindow = (keptOut.get(keyOf(row.key_values)) ?? []).filter((item) =>
        item.window
          ? item.window.startMs === startMs && item.window.endMs === endMs
          : item.eventTimeMs !== null &&
            windowsFor(window, item.eventTimeMs).some((other) => other.startMs === startMs),
      );
      verdicts.set(
        row,
        attributeFixedWindow(
          metric.aggregate,
          { provisional: row.accumulator, final: numeric(row.final) },
          inWindow,
        ),
      );
    }
    return verdicts;
  }

  const events = await finalEventsOf(
    warehouse,
    metric,
    range,
    keys.map(([, key]) => key),
  );
  for (const [key] of keys) {
    const ofKey = rows.filter((row) => keyOf(row.key_values) === key);
    // Windows the pipeline saw only part of are left out on both sides.
    const unobserved = ofKey.filter((row) => row.unobserved).map(windowOf);
    const observed = (window: SessionWindow) =>
      !unobserved.some((other) => overlaps(other, window));
    const side = (value: 'provisional' | 'final') =>
      ofKey
        .filter((row) => !row.unobserved && row[value] !== null)
        .map((row) => ({ ...windowOf(row), value: numeric(row[value]) }));
    const byKey = attributeSessions(
      { aggregate: metric.aggregate, gapMs: window.gapMs },
      { startMs: range.start.getTime(), endMs: range.end.getTime() },
      {
        provisional: side('provisional'),
        final: side('final'),
        finalEvents: events.get(key) ?? [],
        observed,
      },
      keptOut.get(key) ?? [],
    );
    for (const row of ofKey) {
      const verdict = byKey.get(sessionWindowId(windowOf(row)));
      if (verdict && !row.unobserved) verdicts.set(row, verdict);
    }
  }
  return verdicts;
}

function windowOf(row: ComparedWindow): SessionWindow {
  return { startMs: row.window_start.getTime(), endMs: row.window_end.getTime(), value: null };
}

function overlaps(a: SessionWindow, b: SessionWindow): boolean {
  return a.startMs < b.endMs && b.startMs < a.endMs;
}

/**
 * What the stream kept out for some keys of a metric over its event range (the late ledger),
 * per key; a contribution carried by a dead letter replayed after its window closed says so.
 * Truncates name no key: they explain nothing here.
 */
async function keptOutOf(
  warehouse: Knex,
  pipeline: string,
  metric: MetricDefinition,
  range: ConsolidationRange,
  keys: readonly unknown[][],
): Promise<Map<string, KeptOutContribution[]>> {
  const { from, to } = eventRangeOf(metric, range);
  const result = await warehouse.raw<{ rows: LedgerRow[] }>(
    `SELECT late.key_values, late.window_start, late.window_end, late.event_time, late.measure,
            late.sign, late.reason, late.source_table, replayed.id IS NOT NULL AS replayed
       FROM ops.late_events late
       LEFT JOIN LATERAL (
         SELECT id FROM ops.dead_letters
          WHERE replay_source_table = late.source_table AND replay_lsn = late.lsn
          LIMIT 1
       ) replayed ON true
      WHERE late.pipeline = ? AND late.metric = ?
        AND late.key_values IN (SELECT jsonb_array_elements(?::jsonb))
        AND late.event_time >= ? AND late.event_time < ?`,
    [pipeline, metric.name, JSON.stringify(keys), from, to],
  );
  return groupedByKey(
    result.rows,
    (row) => row.key_values,
    (row): KeptOutContribution => ({
      window:
        row.window_start && row.window_end
          ? { startMs: row.window_start.getTime(), endMs: row.window_end.getTime() }
          : null,
      eventTimeMs: row.event_time ? row.event_time.getTime() : null,
      measure: row.measure,
      sign: row.sign === -1 ? -1 : 1,
      reason: row.reason,
      replayed: row.replayed,
      table: row.source_table,
    }),
  );
}

/** The events behind some keys' final sessions (`finalEventsSql`), per key. */
async function finalEventsOf(
  warehouse: Knex,
  metric: MetricDefinition,
  range: ConsolidationRange,
  keys: readonly unknown[][],
): Promise<Map<string, { eventTimeMs: number; measure: MeasureValue }[]>> {
  const { sql, bindings } = finalEventsSql(metric, range, keys);
  const result = await warehouse.transaction(async (trx) => {
    await trx.raw(`SET LOCAL work_mem = '${CONSOLIDATION_WORK_MEM}'`);
    return trx.raw<{
      rows: { key_values: unknown[]; t_ms: string; measure: string | null }[];
    }>(sql, bindings);
  });
  return groupedByKey(
    result.rows,
    (row) => row.key_values,
    (row) => ({ eventTimeMs: Number(row.t_ms), measure: row.measure as MeasureValue }),
  );
}

/** A row image the pipeline never applied, with the sign it would have had and why. */
interface UnseenChange {
  row: Row;
  sign: 1 | -1;
  reason: 'truncate' | 'gap';
}

/**
 * What the pipeline never applied although the changelog holds it, over a metric's event range:
 * the rows a truncate removed (the stream keeps truncates out of its provisional values, in the
 * ledger without a key), and the changes in the offsets Kafka deleted before the pipeline read
 * them (`ops.stream_gaps`) that another pipeline landed. Both are rare; each is read only when
 * there is one.
 */
async function unseenChanges(
  warehouse: Knex,
  pipeline: string,
  metric: MetricDefinition,
  range: ConsolidationRange,
): Promise<UnseenChange[]> {
  const { from, to } = eventRangeOf(metric, range);
  const table = metric.source.table;
  const unseen: UnseenChange[] = [];
  const truncates = await warehouse('raw.change_events')
    .where({ source_table: table, op: 't' })
    .andWhere('committed_at', '>=', from)
    .andWhere('committed_at', '<=', range.cutoff)
    .select<{ committed_at: Date }[]>('committed_at');
  for (const { committed_at: truncatedAt } of truncates) {
    // The table as it was just before the truncate: what the truncate took out.
    const before = eventRangeStateSql(
      table,
      metric.eventTimeField,
      from,
      to,
      new Date(truncatedAt.getTime() - 1),
    );
    const result = await warehouse.raw<{ rows: { row: Row }[] }>(before.sql, before.bindings);
    for (const { row } of result.rows) unseen.push({ row, sign: -1, reason: 'truncate' });
  }

  const gap = await warehouse('ops.stream_gaps').where({ pipeline }).first('id');
  if (gap) {
    const result = await warehouse.raw<{
      rows: { op: string; before: Row | null; after: Row | null }[];
    }>(
      `SELECT change.op, change.before, change.after
         FROM ops.stream_gaps gap
         JOIN raw.change_events change
           ON change.kafka_topic = gap.topic AND change.kafka_partition = gap.partition
          AND change.kafka_offset >= gap.missing_from AND change.kafka_offset < gap.missing_until
        WHERE gap.pipeline = ? AND change.source_table = ?
          AND change.committed_at >= ? AND change.committed_at <= ?`,
      [pipeline, table, from, range.cutoff],
    );
    for (const { op, before, after } of result.rows) {
      if (before && (op === 'u' || op === 'd'))
        unseen.push({ row: before, sign: -1, reason: 'gap' });
      if (after && op !== 'd') unseen.push({ row: after, sign: 1, reason: 'gap' });
    }
  }
  return unseen;
}

/** A metric's contributions of the changes the pipeline never applied, per key. */
function unseenContributions(
  metric: MetricDefinition,
  changes: readonly UnseenChange[],
): Map<string, KeptOutContribution[]> {
  const counted = changes.flatMap((change) => {
    const contribution = contributionOf(metric, change.row);
    return contribution ? [{ change, contribution }] : [];
  });
  return groupedByKey(
    counted,
    ({ contribution }) => contribution.keyValues,
    ({ change, contribution }): KeptOutContribution => ({
      window: null,
      eventTimeMs: contribution.eventTimeMs,
      measure: contribution.measure,
      sign: change.sign,
      reason: change.reason,
      replayed: false,
      table: metric.source.table,
    }),
  );
}
