import type { MetricDefinition } from '@tidemark/contracts';
import { binder, eventRangeOf, type SqlStatement } from './final-metric-sql';

/**
 * The changes a stream pipeline never saw because they were committed before it started at the
 * topics' end, as the windows they touch: per metric, key and minute, the earliest and latest
 * event time of their row images (before and after, so a row moved away counts where it was),
 * and how far before a window such an event still reaches into it (a session's gap). Yields
 * `metric`, `key_values`, `first_event`, `last_event`, `reach`. A window with such an event of
 * its key is one the pipeline saw only part of: the reconciliation leaves it out.
 */
export function preStartChangesSql(
  metrics: readonly MetricDefinition[],
  range: { start: Date; end: Date },
  observedFrom: Date,
): SqlStatement {
  const { bind, statement } = binder();
  const parts = metrics.map((metric) => {
    const from = eventRangeOf(metric, range).from;
    const keys = metric.keys.map((key) => `image -> ${bind(key)}`).join(', ');
    const reachMs = metric.window.kind === 'session' ? metric.window.gapMs : 0;
    return `
      SELECT ${bind(metric.name)}::text AS metric, jsonb_build_array(${keys}) AS key_values,
             ops.try_timestamptz(image ->> ${bind(metric.eventTimeField)}) AS event_time,
             make_interval(secs => ${bind(reachMs / 1000)}) AS reach
        FROM raw.change_events change
        CROSS JOIN LATERAL (VALUES (change.before), (change.after)) AS images(image)
       WHERE change.source_table = ${bind(metric.source.table)}
         AND change.committed_at >= ${bind(from)} AND change.committed_at < ${bind(observedFrom)}
         AND jsonb_typeof(image) = 'object'`;
  });
  return statement(`
    SELECT metric, key_values, min(event_time) AS first_event, max(event_time) AS last_event,
           reach
      FROM (${parts.join('\n      UNION ALL')}) images
     WHERE event_time IS NOT NULL
     GROUP BY metric, key_values, date_trunc('minute', event_time), reach`);
}
