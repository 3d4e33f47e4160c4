import type { PartitionBatchOutcome } from './partition-batch';

// Where a partition is read next after a batch's transaction, from what it found. Pure.

export type NextRead =
  /** Read on after the batch. */
  | { kind: 'read_on' }
  /** Read from `offset` next (the stored position), saying why. */
  | { kind: 'seek'; offset: bigint; level: 'info' | 'warn'; why: string }
  /** Kafka deleted `[missingFrom, missingUntil)` before the pipeline read it: record the gap. */
  | { kind: 'skip_deleted'; missingFrom: bigint; missingUntil: bigint };

/**
 * @param outcome what the batch's transaction found
 * @param lastOffset the batch's last offset
 * @param earliest the partition's earliest offset in Kafka, needed after a gap only
 */
export function nextRead(
  outcome: Pick<PartitionBatchOutcome, 'kind'> & { expected?: bigint | undefined },
  lastOffset: bigint,
  earliest: bigint | undefined,
): NextRead {
  if (outcome.kind === 'gap') {
    const expected = outcome.expected as bigint;
    if (earliest === undefined) throw new Error("a gap needs the partition's earliest offset");
    if (earliest > expected) {
      return { kind: 'skip_deleted', missingFrom: expected, missingUntil: earliest };
    }
    // Kafka's committed offset ran ahead of the warehouse's: go back to the stored one.
    return {
      kind: 'seek',
      offset: expected,
      level: 'warn',
      why: 'resuming from the stored offset',
    };
  }
  if (
    outcome.kind === 'seen' &&
    outcome.expected !== undefined &&
    lastOffset + 1n < outcome.expected
  ) {
    // Kafka's committed offset is behind the warehouse's (or there is none, and the partition is
    // read from its beginning): skip straight to the stored one.
    return {
      kind: 'seek',
      offset: outcome.expected,
      level: 'info',
      why: 'skipping to the stored offset',
    };
  }
  return { kind: 'read_on' };
}
