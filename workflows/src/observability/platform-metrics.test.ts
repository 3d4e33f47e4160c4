import { describe, expect, it } from 'vitest';
import { createPlatformMetrics, type PlatformHealth } from './platform-metrics';

const healthy: PlatformHealth = {
  slots: [
    {
      slot: 'tidemark_shop',
      active: true,
      walStatus: 'reserved',
      lagBytes: 4096,
      safeWalSizeBytes: null,
    },
  ],
  final: {
    recentDaysByStatus: new Map([
      ['published', 5],
      ['blocked', 1],
    ]),
    latestDayEndByStatus: new Map([
      ['published', Date.parse('2026-12-06T00:00:00Z')],
      ['blocked', Date.parse('2026-12-03T00:00:00Z')],
    ]),
  },
  connectors: [{ connector: 'tidemark-shop', failed: 1, restarts: 2 }],
};

/** The exposition's sample lines, without HELP and TYPE. */
async function samples(health: () => Promise<PlatformHealth>): Promise<string[]> {
  const text = await createPlatformMetrics(health).metrics();
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('platform metrics', () => {
  it('serves the slot, its WAL status as one series per status, and the days by status', async () => {
    expect(await samples(async () => healthy)).toEqual([
      'tidemark_replication_slot_active{slot="tidemark_shop"} 1',
      'tidemark_replication_slot_lag_bytes{slot="tidemark_shop"} 4096',
      'tidemark_replication_slot_wal_status{slot="tidemark_shop",status="reserved"} 1',
      'tidemark_replication_slot_wal_status{slot="tidemark_shop",status="extended"} 0',
      'tidemark_replication_slot_wal_status{slot="tidemark_shop",status="unreserved"} 0',
      'tidemark_replication_slot_wal_status{slot="tidemark_shop",status="lost"} 0',
      'tidemark_final_recent_days{status="published"} 5',
      'tidemark_final_recent_days{status="blocked"} 1',
      'tidemark_final_recent_days{status="incomplete"} 0',
      'tidemark_final_latest_day_end_timestamp_seconds{status="published"} 1796515200',
      'tidemark_final_latest_day_end_timestamp_seconds{status="blocked"} 1796256000',
      'tidemark_connector_failed{connector="tidemark-shop"} 1',
      'tidemark_connector_watchdog_restarts{connector="tidemark-shop"} 2',
    ]);
  });

  it('reads the databases once per scrape, and leaves out what is not known', async () => {
    let reads = 0;
    const lost: PlatformHealth = {
      slots: [
        {
          slot: 'tidemark_shop',
          active: false,
          walStatus: 'lost',
          lagBytes: null,
          safeWalSizeBytes: 0,
        },
      ],
      final: { recentDaysByStatus: new Map(), latestDayEndByStatus: new Map() },
      connectors: [{ connector: 'tidemark-shop', failed: null, restarts: 0 }],
    };
    const read = async () => {
      reads += 1;
      return lost;
    };
    const lines = await samples(read);
    expect(reads).toBe(1);
    expect(lines).toContain('tidemark_replication_slot_active{slot="tidemark_shop"} 0');
    expect(lines).toContain(
      'tidemark_replication_slot_wal_status{slot="tidemark_shop",status="lost"} 1',
    );
    expect(lines).toContain(
      'tidemark_replication_slot_safe_wal_size_bytes{slot="tidemark_shop"} 0',
    );
    expect(lines.some((line) => line.startsWith('tidemark_replication_slot_lag_bytes'))).toBe(
      false,
    );
    expect(lines.some((line) => line.startsWith('tidemark_final_latest_day_end'))).toBe(false);
    // Kafka Connect did not answer: no failed count, the restarts still shown.
    expect(lines.some((line) => line.startsWith('tidemark_connector_failed'))).toBe(false);
    expect(lines).toContain('tidemark_connector_watchdog_restarts{connector="tidemark-shop"} 0');
  });

  it('forgets a slot that is gone at the next scrape', async () => {
    let health = healthy;
    const registry = createPlatformMetrics(async () => health);
    expect(await registry.metrics()).toContain('slot="tidemark_shop"');
    health = { ...healthy, slots: [] };
    expect(await registry.metrics()).not.toContain('slot="tidemark_shop"');
  });
});
