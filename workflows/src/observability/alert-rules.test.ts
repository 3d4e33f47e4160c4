import { createStreamMetrics } from '@tidemark/stream';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPlatformMetrics } from './platform-metrics';

// The alert rules name the metrics the stream and the worker serve: a metric renamed in the code
// and not in the rules would leave its alerts silent for good, which promtool's tests (on
// series they write themselves) cannot see.

const RULES = new URL('../../../infra/prometheus/tidemark.rules.yml', import.meta.url);

/** The series names a metric of this name and type exposes. */
function seriesOf(name: string, type: string): string[] {
  return type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

describe('the alert rules', () => {
  it('name only series the stream and the worker serve', async () => {
    const served = new Set<string>();
    for (const registry of [
      createStreamMetrics().registry,
      createPlatformMetrics(async () => ({
        slots: [],
        final: { recentDaysByStatus: new Map(), latestDayEndByStatus: new Map() },
        connectors: [],
      })),
    ]) {
      for (const metric of await registry.getMetricsAsJSON()) {
        for (const series of seriesOf(metric.name, String(metric.type))) served.add(series);
      }
    }
    const named = new Set(readFileSync(RULES, 'utf8').match(/\btidemark_[a-z_]+/g) ?? []);
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((name) => !served.has(name))).toEqual([]);
  });
});
