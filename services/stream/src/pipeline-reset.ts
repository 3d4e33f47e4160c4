import { withAdmin } from '@tidemark/runtime';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';

// Every table holding what a pipeline derived, with the column naming the pipeline.
export const PIPELINE_STATE = [
  ['provisional.metric_values', 'pipeline'],
  ['stream.window_partials', 'pipeline'],
  ['stream.dirty_windows', 'pipeline'],
  ['stream.row_versions', 'pipeline'],
  ['stream.session_state', 'pipeline'],
  ['stream.session_inbox', 'pipeline'],
  ['stream.watermarks', 'pipeline'],
  ['ops.late_events', 'pipeline'],
  ['ops.stream_gaps', 'pipeline'],
  ['ops.consumer_offsets', 'group_id'],
  ['stream.pipelines', 'pipeline'],
] as const;

// Kafka's answers to DeleteGroups that say the group is gone: it never was, or it emptied and
// expired meanwhile (deleting its last topic deletes its offsets, and an empty group without
// offsets is removed by the broker).
const GROUP_GONE = new Set([69 /* GROUP_ID_NOT_FOUND */]);
// Answers worth asking again: members still in the group (a consumer that died without leaving
// stays until its session times out), or a coordinator that is moving or loading.
const ASK_AGAIN = new Set([
  68 /* NON_EMPTY_GROUP */, 14 /* COORDINATOR_LOAD_IN_PROGRESS */,
  15 /* COORDINATOR_NOT_AVAILABLE */, 16 /* NOT_COORDINATOR */,
]);

export type GroupDeletion = 'deleted' | 'retry' | 'failed';

interface GroupError {
  errorCode?: number;
  error?: { type?: string };
}

/** What a DeleteGroups failure means for the one group a reset deletes. */
export function groupDeletionOutcome(error: unknown): GroupDeletion {
  const groups = (error as { groups?: GroupError[] } | undefined)?.groups;
  if (!groups?.length) return 'failed';
  const codes = groups.map((group) => group.errorCode ?? -1);
  if (codes.every((code) => GROUP_GONE.has(code))) return 'deleted';
  if (codes.every((code) => GROUP_GONE.has(code) || ASK_AGAIN.has(code))) return 'retry';
  return 'failed';
}

/** The broker's reasons, by name, for an error message a user can act on. */
function describeGroupErrors(error: unknown): string {
  const groups = (error as { groups?: GroupError[] }).groups ?? [];
  const reasons = groups.map((group) => group.error?.type ?? `error code ${group.errorCode}`);
  return reasons.length ? reasons.join(', ') : String((error as Error).message ?? error);
}

/** Rows a pipeline holds, per table, as a reset would forget them. */
export async function pipelineStateCounts(
  warehouse: Knex,
  pipeline: string,
): Promise<{ table: string; rows: number }[]> {
  const counts = [];
  for (const [table, column] of PIPELINE_STATE) {
    const [row] = await warehouse(table).where(column, pipeline).count({ rows: '*' });
    counts.push({ table, rows: Number(row?.rows ?? 0) });
  }
  return counts;
}

/** Members of a pipeline's consumer group: its running consumers, or ones not timed out yet. */
export async function consumerGroupMembers(kafka: Kafka, pipeline: string): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    const { groups } = await admin.describeGroups([pipeline]);
    return groups.reduce((members, group) => members + group.members.length, 0);
  });
}

/**
 * Forgets everything a stream pipeline derived and where it was, in the warehouse and in its
 * Kafka consumer group, so it starts afresh from its start position. The pipeline must not be
 * running (`consumerGroupMembers` tells). The raw changelog and the dead letters are shared and
 * stay.
 */
export async function resetPipeline(
  warehouse: Knex,
  kafka: Kafka,
  pipeline: string,
): Promise<void> {
  await warehouse.transaction(async (trx) => {
    for (const [table, column] of PIPELINE_STATE) await trx(table).where(column, pipeline).delete();
  });
  await withAdmin(kafka, async (admin) => {
    const groups = await admin.listGroups();
    if (!groups.groups.some((group) => group.groupId === pipeline)) return;
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await admin.deleteGroups([pipeline]);
        return;
      } catch (error) {
        const outcome = groupDeletionOutcome(error);
        if (outcome === 'deleted') return;
        if (outcome === 'failed' || Date.now() > deadline) {
          throw new Error(
            `could not delete the Kafka consumer group ${pipeline}: ${describeGroupErrors(error)}`,
            { cause: error },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  });
}
