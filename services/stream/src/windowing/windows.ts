import type { WindowSpec } from '@tidemark/contracts';

/** A half-open event-time interval [startMs, endMs), epoch milliseconds, aligned to the epoch in UTC. */
export interface TimeWindow {
  startMs: number;
  endMs: number;
}

type FixedWindowSpec = Exclude<WindowSpec, { kind: 'session' }>;

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
