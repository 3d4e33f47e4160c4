import type { Logger } from '@tidemark/runtime';
import type { Knex } from 'knex';
import type { QueuedSessionsResult } from './session-store';

// What the session lane tells the rest of the pipeline and its operator: how each application of
// queued session contributions went, and how far behind the queue is.

/** The session queue of a pipeline: batches whose session contributions wait to be applied. */
export interface SessionQueueStats {
  batches: number;
  /** How long the oldest of them has waited (0 when none). */
  oldestWaitMs: number;
}

/** What one application of queued session contributions did. */
export interface SessionStats {
  /** Queued batches applied, their contributions, and the session keys they changed. */
  batches: number;
  inputs: number;
  sessions: number;
  /** Contributions later than the allowed lateness (in the late ledger), by change topic. */
  lateByTopic: Map<string, number>;
}

/** Queued session contributions may wait this long before intake pauses for them. */
export const SESSION_QUEUE_MAX_WAIT_MS = 30_000;
/** A warning that contributions are held back for metrics this consumer lacks, at most this often. */
const HELD_BACK_REPEAT_MS = 60_000;

/** Reports each application of queued session contributions: its stats, and what waits. */
export class SessionReporter {
  private lastHeldBack = { metrics: '', atMs: 0 };

  constructor(
    private readonly deps: {
      /** Each source table's change topic. */
      topics: ReadonlyMap<string, string>;
      logger: Logger;
      now: () => number;
      onSessions?: (stats: SessionStats) => void;
    },
  ) {}

  report(result: QueuedSessionsResult): void {
    const { logger, now, topics } = this.deps;
    const heldBack = result.heldBackBy.join(',');
    if (
      heldBack !== '' &&
      (heldBack !== this.lastHeldBack.metrics ||
        now() - this.lastHeldBack.atMs > HELD_BACK_REPEAT_MS)
    ) {
      // Left queued, not dropped: the queue's wait gauge and the intake pause show it if no
      // consumer computing these metrics comes to apply them. Said once a minute.
      this.lastHeldBack = { metrics: heldBack, atMs: now() };
      logger.warn(
        'queued session contributions wait for a consumer computing metrics this one lacks',
        { metrics: result.heldBackBy },
      );
    }
    if (result.inputs === 0) return;
    const lateByTopic = new Map<string, number>();
    for (const entry of result.late) {
      const topic = topics.get(entry.table) ?? entry.table;
      lateByTopic.set(topic, (lateByTopic.get(topic) ?? 0) + 1);
    }
    this.deps.onSessions?.({
      batches: result.batches,
      inputs: result.inputs,
      sessions: result.sessions,
      lateByTopic,
    });
    if (result.late.length > 0) {
      logger.warn('late session contributions', { late: result.late.length });
    }
  }
}

/**
 * Watches how many batches' session contributions are queued and how long the oldest has
 * waited, whichever consumer applies them: every consumer's intake pauses while it is too long.
 */
export class SessionQueueWatch {
  /** Whether the oldest queued contributions have waited longer than they may. */
  behind = false;

  constructor(
    private readonly warehouse: Knex,
    private readonly pipeline: string,
    private readonly onSessionQueue?: (queue: SessionQueueStats) => void,
  ) {}

  async observe(): Promise<SessionQueueStats> {
    const queue = await this.warehouse('stream.session_inbox')
      .where({ pipeline: this.pipeline })
      .first<{ batches: number; oldest: Date | null } | undefined>(
        this.warehouse.raw('count(*)::int AS batches'),
        this.warehouse.raw('min(queued_at) AS oldest'),
      );
    const stats = {
      batches: queue?.batches ?? 0,
      oldestWaitMs: queue?.oldest ? Math.max(0, Date.now() - queue.oldest.getTime()) : 0,
    };
    this.behind = stats.oldestWaitMs > SESSION_QUEUE_MAX_WAIT_MS;
    this.onSessionQueue?.(stats);
    return stats;
  }
}
