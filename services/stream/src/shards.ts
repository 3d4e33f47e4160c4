/**
 * Emission shards (docs/stream-design.md): a window's provisional row belongs to one shard of its
 * metric, and the consumer that owns partition `s` of the metric's source topic emits shard `s`.
 * So each provisional row has one writer, and emission follows the consumer group's assignment.
 * Pure.
 */

/** The shard of a metric's window rows of one group key, among `shards` (the topic's partitions). */
export function shardOf(metric: string, groupKey: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) {
    throw new Error(`a metric's windows need at least one shard, not ${shards}`);
  }
  return fnv1a(`${metric}\u0000${groupKey}`) % shards;
}

/** FNV-1a, 32 bits: stable across processes and releases, which emission ownership needs. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
