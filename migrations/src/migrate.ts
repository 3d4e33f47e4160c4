import type { Knex } from 'knex';
import * as shopSchema from './source/0001-shop-schema';
import * as orderChannel from './source/0002-order-channel';
import * as replicationHeartbeat from './source/0003-replication-heartbeat';
import * as workerReadsShop from './source/0004-worker-reads-shop';
import * as snapshotSignals from './source/0005-snapshot-signals';
import * as warehouseSchema from './warehouse/0001-warehouse-schema';
import * as streamState from './warehouse/0002-stream-state';
import * as deadLetterReplay from './warehouse/0003-dead-letter-replay';
import * as changelogByDay from './warehouse/0004-changelog-by-day';
import * as finalMetrics from './warehouse/0006-final-metrics';
import * as backfills from './warehouse/0007-backfills';
import * as dayScopedQuality from './warehouse/0008-day-scoped-quality';
import * as pipelineObservation from './warehouse/0009-pipeline-observation';
import * as compactSessionState from './warehouse/0011-compact-session-state';
import * as backfillState from './warehouse/0012-backfill-state';
import * as sessionInbox from './warehouse/0013-session-inbox';
import * as streamGaps from './warehouse/0014-stream-gaps';
import * as partitionLsnHorizon from './warehouse/0015-partition-lsn-horizon';
import * as leastPrivilege from './warehouse/0016-least-privilege';
import * as windowPartials from './warehouse/0017-window-partials';
import * as emissionShards from './warehouse/0018-emission-shards';
import * as sessionShards from './warehouse/0019-session-shards';
import * as reconciliationExplanation from './warehouse/0020-reconciliation-explanation';
import * as accumulatorSqlTwins from './warehouse/0021-accumulator-sql-twins';
import * as changelogRowKnowledge from './warehouse/0022-changelog-row-knowledge';
import * as concurrentDayPartitions from './warehouse/0023-concurrent-day-partitions';
import * as runPipeline from './warehouse/0024-run-pipeline';
import * as deferredSessionRows from './warehouse/0025-deferred-session-rows';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migrations of the demo application's `source` database, in order. */
export const SOURCE_MIGRATIONS: readonly Migration[] = [
  { name: '0001-shop-schema', ...shopSchema },
  { name: '0002-order-channel', ...orderChannel },
  { name: '0003-replication-heartbeat', ...replicationHeartbeat },
  { name: '0004-worker-reads-shop', ...workerReadsShop },
  { name: '0005-snapshot-signals', ...snapshotSignals },
];

/** Migrations of the `warehouse` database, in order. */
export const WAREHOUSE_MIGRATIONS: readonly Migration[] = [
  { name: '0001-warehouse-schema', ...warehouseSchema },
  { name: '0002-stream-state', ...streamState },
  { name: '0003-dead-letter-replay', ...deadLetterReplay },
  { name: '0004-changelog-by-day', ...changelogByDay },
  { name: '0006-final-metrics', ...finalMetrics },
  { name: '0007-backfills', ...backfills },
  { name: '0008-day-scoped-quality', ...dayScopedQuality },
  { name: '0009-pipeline-observation', ...pipelineObservation },
  { name: '0011-compact-session-state', ...compactSessionState },
  { name: '0012-backfill-state', ...backfillState },
  { name: '0013-session-inbox', ...sessionInbox },
  { name: '0014-stream-gaps', ...streamGaps },
  { name: '0015-partition-lsn-horizon', ...partitionLsnHorizon },
  { name: '0016-least-privilege', ...leastPrivilege },
  { name: '0017-window-partials', ...windowPartials },
  { name: '0018-emission-shards', ...emissionShards },
  { name: '0019-session-shards', ...sessionShards },
  { name: '0020-reconciliation-explanation', ...reconciliationExplanation },
  { name: '0021-accumulator-sql-twins', ...accumulatorSqlTwins },
  { name: '0022-changelog-row-knowledge', ...changelogRowKnowledge },
  { name: '0023-concurrent-day-partitions', ...concurrentDayPartitions },
  { name: '0024-run-pipeline', ...runPipeline },
  { name: '0025-deferred-session-rows', ...deferredSessionRows },
];

// Migrations are listed in code rather than discovered on disk, so they run the same under
// node, tsx and vitest.
function sourceOf(migrations: readonly Migration[]): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...migrations],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => migration,
  };
}

/** Applies the pending migrations; returns the names of those applied now. */
export async function migrateLatest(db: Knex, migrations: readonly Migration[]): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: sourceOf(migrations) })) as [
    number,
    string[],
  ];
  return applied;
}

/** Rolls every migration back (used by tests that need a clean database). */
export async function rollbackAll(db: Knex, migrations: readonly Migration[]): Promise<void> {
  await db.migrate.rollback({ migrationSource: sourceOf(migrations) }, true);
}
