import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';

// Every table holding what a pipeline derived, with the column naming the pipeline.
const PIPELINE_STATE = [
  ['provisional.metric_values', 'pipeline'],
  ['stream.row_versions', 'pipeline'],
  ['stream.session_state', 'pipeline'],
  ['stream.session_inbox', 'pipeline'],
  ['stream.watermarks', 'pipeline'],
  ['ops.late_events', 'pipeline'],
  ['ops.stream_gaps', 'pipeline'],
  ['ops.consumer_offsets', 'group_id'],
  ['stream.pipelines', 'pipeline'],
] as const;

// Kafka's NON_EMPTY_GROUP: members are still in the group.
const NON_EMPTY_GROUP = 68;

function isGroupNotEmpty(error: unknown): boolean {
  const groups =
    (error as { groups?: { errorCode?: number; error?: { type?: string } }[] }).groups ?? [];
  return groups.some(
    (group) => group.errorCode === NON_EMPTY_GROUP || group.error?.type === 'NON_EMPTY_GROUP',
  );
}

/**
 * Forgets everything a stream pipeline derived and where it was, in the warehouse and in its
 * Kafka consumer group, so it starts afresh from its start position. The pipeline must not be
 * running. The raw changelog and the dead letters are shared and stay.
 */
export async function resetPipeline(
  warehouse: Knex,
  kafka: Kafka,
  pipeline: string,
): Promise<void> {
  await warehouse.transaction(async (trx) => {
    for (const [table, column] of PIPELINE_STATE) await trx(table).where(column, pipeline).delete();
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = await admin.listGroups();
    if (!groups.groups.some((group) => group.groupId === pipeline)) return;
    // A consumer that died without leaving stays a member until its session times out.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await admin.deleteGroups([pipeline]);
        return;
      } catch (error) {
        if (!isGroupNotEmpty(error) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
