import { Gauge, Registry } from 'prom-client';
import type { FinalHealth, SlotHealth } from './platform-health';

/** Every metric the worker serves about the platform starts with this. */
export const PLATFORM_METRIC_PREFIX = 'tidemark_';

/** The values of `wal_status` PostgreSQL reports; each gets a 0/1 series. */
export const WAL_STATUSES = ['reserved', 'extended', 'unreserved', 'lost'] as const;

/** The run statuses a finished day can end in. */
export const FINISHED_RUN_STATUSES = ['published', 'blocked', 'incomplete'] as const;

/** A Kafka Connect connector as the worker's watchdog last saw it. */
export interface ConnectorHealth {
  connector: string;
  /** The connector itself and its tasks now FAILED (null: Kafka Connect did not answer). */
  failed: number | null;
  /** Restarts of what had FAILED the watchdog made since the worker started. */
  restarts: number;
}

export interface PlatformHealth {
  slots: SlotHealth[];
  final: FinalHealth;
  connectors: ConnectorHealth[];
}

/**
 * Registers the platform's gauges in `registry` (a new one by default), each filled from one
 * `read()` per scrape: the gauges Prometheus collects together share it.
 */
export function createPlatformMetrics(
  read: () => Promise<PlatformHealth>,
  registry: Registry = new Registry(),
): Registry {
  let pending: Promise<PlatformHealth> | undefined;
  const current = () =>
    (pending ??= read().finally(() => {
      pending = undefined;
    }));

  gauge(registry, 'replication_slot_active', 'Whether a client streams from the slot now.', [
    'slot',
  ]).collectWith(async (set) => {
    for (const slot of (await current()).slots) set({ slot: slot.slot }, slot.active ? 1 : 0);
  });
  gauge(
    registry,
    'replication_slot_lag_bytes',
    'WAL written on the source since what the slot consumer (Debezium) confirmed.',
    ['slot'],
  ).collectWith(async (set) => {
    for (const slot of (await current()).slots) {
      if (slot.lagBytes !== null) set({ slot: slot.slot }, slot.lagBytes);
    }
  });
  gauge(
    registry,
    'replication_slot_safe_wal_size_bytes',
    'WAL that can still be written before PostgreSQL removes WAL the slot needs (max_slot_wal_keep_size).',
    ['slot'],
  ).collectWith(async (set) => {
    for (const slot of (await current()).slots) {
      if (slot.safeWalSizeBytes !== null) set({ slot: slot.slot }, slot.safeWalSizeBytes);
    }
  });
  gauge(
    registry,
    'replication_slot_wal_status',
    "The slot's wal_status: 1 for the current one; lost means changes were never captured.",
    ['slot', 'status'],
  ).collectWith(async (set) => {
    for (const slot of (await current()).slots) {
      for (const status of WAL_STATUSES) {
        set({ slot: slot.slot, status }, slot.walStatus === status ? 1 : 0);
      }
    }
  });
  gauge(
    registry,
    'final_recent_days',
    "Days of the last week by the status of each day's latest finished consolidation run.",
    ['status'],
  ).collectWith(async (set) => {
    const { recentDaysByStatus } = (await current()).final;
    for (const status of FINISHED_RUN_STATUSES)
      set({ status }, recentDaysByStatus.get(status) ?? 0);
  });
  gauge(
    registry,
    'final_latest_day_end_timestamp_seconds',
    'The end of the latest day with a run that finished in the status; for published, how far the final values reach.',
    ['status'],
  ).collectWith(async (set) => {
    for (const [status, endMs] of (await current()).final.latestDayEndByStatus) {
      set({ status }, endMs / 1000);
    }
  });
  gauge(
    registry,
    'connector_failed',
    'The connector and its tasks now FAILED, as the worker last saw them (the watchdog restarts them).',
    ['connector'],
  ).collectWith(async (set) => {
    for (const health of (await current()).connectors) {
      if (health.failed !== null) set({ connector: health.connector }, health.failed);
    }
  });
  gauge(
    registry,
    'connector_watchdog_restarts',
    'Restarts of a FAILED connector or task the worker made since it started.',
    ['connector'],
  ).collectWith(async (set) => {
    for (const health of (await current()).connectors) {
      set({ connector: health.connector }, health.restarts);
    }
  });
  return registry;
}

type Setter = (labels: Record<string, string>, value: number) => void;

/** A gauge whose series are all set afresh by `collect` at each scrape. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[]) {
  return {
    collectWith(collect: (set: Setter) => Promise<void>) {
      new Gauge({
        name: `${PLATFORM_METRIC_PREFIX}${name}`,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset();
          await collect((labels, value) => this.set(labels, value));
        },
      });
    },
  };
}
