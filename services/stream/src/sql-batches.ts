import type { MetricDefinition } from '@tidemark/contracts';

// How the sink shapes rows into statements: one per metric, in key order, in bounded chunks.

/** Consecutive items of the same metric, for one statement each. */
export function groupedByMetric<T extends { metric: MetricDefinition }>(
  items: readonly T[],
): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.metric.name) ?? [];
    group.push(item);
    groups.set(item.metric.name, group);
  }
  return [...groups.keys()].sort().map((name) => groups.get(name) as T[]);
}

/** One fixed order of keys (tuples of text), the same in every consumer: rows are locked in it. */
export function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let index = 0; index < a.length; index += 1) {
    const left = a[index] ?? '';
    const right = b[index] ?? '';
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

/** Items in runs of at most `size`: one statement each. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}
