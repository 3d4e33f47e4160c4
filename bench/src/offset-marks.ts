/** An offset per topic partition, keyed `topic/partition`: where a range starts or ends. */
export type OffsetMarks = ReadonlyMap<string, bigint>;

/** A range of the change topics: from the start marks (inclusive) to the end marks (exclusive). */
export interface OffsetRange {
  start: OffsetMarks;
  end: OffsetMarks;
}

export function markKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** The topic and partition of a mark's key. */
export function parseMarkKey(key: string): { topic: string; partition: number } {
  const slash = key.lastIndexOf('/');
  return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) };
}

/** Messages from `start` to `end` over every partition of `end` (a new partition from 0). */
export function messagesBetween(start: OffsetMarks, end: OffsetMarks): number {
  let total = 0n;
  for (const [key, endOffset] of end) {
    const startOffset = start.get(key) ?? 0n;
    if (endOffset > startOffset) total += endOffset - startOffset;
  }
  return Number(total);
}

/**
 * The first and last offsets (both included) of each partition holding messages of the range,
 * keyed `topic/partition`, as the results file records them.
 */
export function rangeOffsets(range: OffsetRange): {
  start: Record<string, string>;
  end: Record<string, string>;
} {
  const start: Record<string, string> = {};
  const end: Record<string, string> = {};
  for (const key of [...range.end.keys()].sort()) {
    const first = range.start.get(key) ?? 0n;
    const after = range.end.get(key) ?? 0n;
    if (after <= first) continue;
    start[key] = first.toString();
    end[key] = (after - 1n).toString();
  }
  return { start, end };
}

/** True when every partition of `target` has reached its mark in `reached`. */
export function hasReached(reached: OffsetMarks, target: OffsetMarks): boolean {
  for (const [key, offset] of target) {
    if ((reached.get(key) ?? 0n) < offset) return false;
  }
  return true;
}

/** Marks grouped by topic, as kafkajs' admin.setOffsets wants them. */
export function marksByTopic(
  marks: OffsetMarks,
): Map<string, { partition: number; offset: string }[]> {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const [key, offset] of marks) {
    const { topic, partition } = parseMarkKey(key);
    const partitions = byTopic.get(topic) ?? [];
    partitions.push({ partition, offset: offset.toString() });
    byTopic.set(topic, partitions);
  }
  return byTopic;
}

/** Counts how far each partition of a range has been processed, from per-batch message counts. */
export class RangeProgress {
  private readonly reached = new Map<string, bigint>();

  constructor(private readonly range: OffsetRange) {
    for (const [key, offset] of range.start) this.reached.set(key, offset);
  }

  /** Records `messages` more processed on a partition; true once the whole range is done. */
  advance(topic: string, partition: number, messages: number): boolean {
    const key = markKey(topic, partition);
    this.reached.set(key, (this.reached.get(key) ?? 0n) + BigInt(messages));
    return this.done();
  }

  done(): boolean {
    return hasReached(this.reached, this.range.end);
  }

  /** Messages of the range processed so far (anything past the end marks is not counted). */
  processed(): number {
    const capped = new Map<string, bigint>();
    for (const [key, end] of this.range.end) {
      const reached = this.reached.get(key) ?? 0n;
      capped.set(key, reached < end ? reached : end);
    }
    return messagesBetween(this.range.start, capped);
  }
}
