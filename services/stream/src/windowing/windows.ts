import type { WindowSpec } from '@tidemark/contracts';
import type { Bind } from './sql-bind';

/** A half-open event-time interval [startMs, endMs), epoch milliseconds, aligned to the epoch in UTC. */
export interface TimeWindow {
  startMs: number;
  endMs: number;
}

export type FixedWindowSpec = Exclude<WindowSpec, { kind: 'session' }>;

/** The tumbling or hopping windows an event time falls in, oldest first. */
export function windowsFor(spec: FixedWindowSpec, eventTimeMs: number): TimeWindow[] {
  if (spec.kind === 'tumbling') {
    const startMs = floorTo(eventTimeMs, spec.sizeMs);
    return [{ startMs, endMs: startMs + spec.sizeMs }];
  }
  const windows: TimeWindow[] = [];
  const lastStart = floorTo(eventTimeMs, spec.slideMs);
  for (let startMs = lastStart; startMs > eventTimeMs - spec.sizeMs; startMs -= spec.slideMs) {
    windows.unshift({ startMs, endMs: startMs + spec.sizeMs });
  }
  return windows;
}

function floorTo(value: number, step: number): number {
  return Math.floor(value / step) * step;
}

/**
 * `windowsFor` in SQL: the windows' starts (epoch milliseconds) of an event at `t_ms`, as a
 * relation `window_start_ms` to join LATERAL, for the batch layer's final values.
 */
export function windowStartsSql(spec: FixedWindowSpec, bind: Bind): string {
  const slide = spec.kind === 'hopping' ? spec.slideMs : spec.sizeMs;
  // The slide boundary at or before the event, rounding down before 1970 too (integer division
  // in SQL truncates towards zero; floorTo floors).
  const slideStart = `(t_ms - ((t_ms % ${bind(slide)}) + ${bind(slide)}) % ${bind(slide)})`;
  // A tumbling window is the one window of its slide: no series to generate per event.
  if (spec.kind === 'tumbling')
    return `(SELECT ${slideStart} AS window_start_ms) AS window_start_ms`;
  return `generate_series(
                 ${slideStart} - ${bind(spec.sizeMs - slide)},
                 ${slideStart},
                 ${bind(slide)}::bigint) AS window_start_ms`;
}
