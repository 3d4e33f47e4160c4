import { TidemarkError } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { changesOf, toTransactions, type PlannedTransaction, type Statement } from './batch';
import {
  assertNoProblems,
  DEFAULT_DURATION_MS,
  planOptionProblems,
  runOptionProblems,
  type LoadOptions,
  type OptionLabels,
} from './options';
import { LoadPlan, OPERATION_KINDS, type LoadOperation, type OperationKind } from './plan';

/** Why a load stopped. */
export type LoadStopReason = 'duration' | 'operations' | 'signal';

/** What a load wrote; everything counted here was committed. */
export interface LoadReport {
  seed: number;
  targetRatePerSec: number;
  /** Committed operations per second between the start and the last commit. */
  achievedRatePerSec: number;
  startedAt: Date;
  endedAt: Date;
  stoppedBy: LoadStopReason;
  /** Committed operations, all kinds. */
  operations: number;
  byKind: Record<OperationKind, number>;
  /** Row changes PostgreSQL logged (Debezium sends one event each; a primary-key change two). */
  changes: number;
  /** Poison rows written: each makes exactly one change that fails its contract. */
  poison: number;
  /** Rows inserted with created_at = now - lateByMs. */
  late: number;
  /** Rows inserted with created_at up to outOfOrderMaxMs in the past. */
  outOfOrder: number;
  /**
   * With `recordIds` (the default): the id each committed operation wrote, per kind (the order's
   * id for updates and deletes, its new id for a primary-key change), and the ids of poison,
   * late and moved rows. Empty lists otherwise.
   */
  ids: Record<OperationKind, string[]> & {
    poison: string[];
    late: string[];
    idChanges: { from: string; to: string }[];
  };
}

/** Reported about once a second while the load runs. */
export interface LoadProgress {
  elapsedMs: number;
  operations: number;
  changes: number;
  /** Committed operations per second over the last interval. */
  ratePerSec: number;
  /** Planned operations not yet committed. */
  backlog: number;
}

export interface LoadHooks {
  onProgress?(progress: LoadProgress): void;
  /** After each commit, with its operations in the order they were written. */
  onCommit?(operations: readonly LoadOperation[]): void;
}

const PROGRESS_INTERVAL_MS = 1000;

/**
 * Writes a load plan into the source database at `ratePerSec`: every tick (10 ms by default) the
 * operations due since the last one are planned and handed to a small set of connections, each
 * owning the orders whose key falls on it, so one order's operations stay in order while the
 * connections write in parallel. A connection that falls behind merges what queued up into its
 * next transactions; planning pauses while the backlog exceeds half a second of traffic.
 */
export async function runLoad(
  source: Knex,
  options: LoadOptions,
  hooks: LoadHooks = {},
  labels: OptionLabels = {},
): Promise<LoadReport> {
  assertNoProblems(
    [...runOptionProblems(options, labels), ...planOptionProblems(options, labels)],
    'load options',
  );
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const plan = new LoadPlan({ ...options, seed, newId: options.newId ?? randomUUID });
  const rate = options.ratePerSec;
  const tickMs = options.tickMs ?? 10;
  const durationMs =
    options.durationMs ?? (options.operations === undefined ? DEFAULT_DURATION_MS : undefined);
  const limit = options.operations ?? Number.POSITIVE_INFINITY;
  const report = emptyReport(seed, rate);
  const recordIds = options.recordIds ?? true;
  // Catching up after a slow tick is capped at 100 ms of traffic, so the load never bursts.
  const maxPerTick = Math.max(Math.ceil((rate * tickMs) / 1000) * 2, Math.ceil(rate / 10));
  const highWater = Math.max(Math.ceil(rate / 2), 1000);

  const writer = new Writer(source, report, recordIds, hooks, options.maxTransactionSize ?? 500);
  const lanes = Array.from({ length: options.connections ?? 4 }, () => new Lane(writer));
  const backlog = () => lanes.reduce((sum, lane) => sum + lane.queued, 0) + writer.inFlight;

  const startMs = performance.now();
  report.startedAt = new Date();
  let planned = 0;
  let forgiven = 0;
  let nextProgressMs = PROGRESS_INTERVAL_MS;
  let lastProgress = { atMs: 0, operations: 0 };
  for (;;) {
    const tickStartMs = performance.now();
    const elapsedMs = tickStartMs - startMs;
    if (options.signal?.aborted) {
      report.stoppedBy = 'signal';
      break;
    }
    if (writer.failure) break;
    const scheduleMs = durationMs === undefined ? elapsedMs : Math.min(elapsedMs, durationMs);
    let due = Math.min(
      Math.floor((rate * scheduleMs) / 1000) - planned - forgiven,
      limit - planned,
    );
    // Never burst to catch up: what could not be written in time is skipped, and shows in the rate.
    if (backlog() > highWater) {
      forgiven += Math.max(0, due);
      due = 0;
    } else if (due > maxPerTick) {
      forgiven += due - maxPerTick;
      due = maxPerTick;
    }
    if (due > 0) {
      const nowMs = Date.now();
      const byLane: LoadOperation[][] = lanes.map(() => []);
      for (let i = 0; i < due; i += 1) {
        const operation = plan.next(nowMs);
        byLane[operation.orderKey % lanes.length]?.push(operation);
      }
      planned += due;
      byLane.forEach((operations, index) => lanes[index]?.push(operations));
    }
    if (elapsedMs >= nextProgressMs) {
      const intervalMs = elapsedMs - lastProgress.atMs;
      hooks.onProgress?.({
        elapsedMs: Math.round(elapsedMs),
        operations: report.operations,
        changes: report.changes,
        ratePerSec: Math.round(((report.operations - lastProgress.operations) * 1000) / intervalMs),
        backlog: backlog(),
      });
      lastProgress = { atMs: elapsedMs, operations: report.operations };
      nextProgressMs += PROGRESS_INTERVAL_MS;
    }
    if (planned >= limit) {
      report.stoppedBy = 'operations';
      break;
    }
    if (durationMs !== undefined && elapsedMs >= durationMs) {
      report.stoppedBy = 'duration';
      break;
    }
    const waitMs = tickMs - (performance.now() - tickStartMs);
    if (waitMs > 0) await sleep(waitMs, undefined, { signal: options.signal }).catch(() => {});
  }
  // Stopped by a signal or a failure: drop what is queued, let the transactions in flight finish.
  if (report.stoppedBy === 'signal' || writer.failure) lanes.forEach((lane) => lane.clear());
  await Promise.all(lanes.map((lane) => lane.idle()));
  if (writer.failure) throw writer.failure.error;
  report.endedAt = new Date();
  const seconds = (report.endedAt.getTime() - report.startedAt.getTime()) / 1000;
  report.achievedRatePerSec = seconds > 0 ? Math.round(report.operations / seconds) : 0;
  return report;
}

/** Executes planned transactions and records what they committed. */
class Writer {
  /** The first write failure (a TidemarkError), or whatever an onCommit hook threw. */
  failure: { error: unknown } | undefined;
  inFlight = 0;

  constructor(
    private readonly source: Knex,
    private readonly report: LoadReport,
    private readonly recordIds: boolean,
    private readonly hooks: LoadHooks,
    readonly maxTransactionSize: number,
  ) {}

  async write(transaction: PlannedTransaction): Promise<void> {
    let current: Statement | undefined;
    this.inFlight += transaction.operations.length;
    try {
      await this.source.transaction(async (trx) => {
        for (const statement of transaction.statements) {
          current = statement;
          await runStatement(trx, statement);
        }
        current = undefined;
      });
    } catch (error) {
      this.failure ??= { error: writeFailure(error, current) };
      return;
    } finally {
      this.inFlight -= transaction.operations.length;
    }
    try {
      this.committed(transaction.operations);
    } catch (error) {
      // A hook's own error, passed on as it is: the write itself succeeded.
      this.failure ??= { error };
    }
  }

  private committed(operations: readonly LoadOperation[]): void {
    const report = this.report;
    for (const operation of operations) {
      report.operations += 1;
      report.byKind[operation.kind] += 1;
      report.changes += changesOf(operation);
      if (operation.kind === 'insert_order' || operation.kind === 'insert_payment') {
        if (operation.poison) report.poison += 1;
        if (operation.timing === 'late') report.late += 1;
        if (operation.timing === 'out_of_order') report.outOfOrder += 1;
      }
      if (this.recordIds) recordId(report.ids, operation);
    }
    this.hooks.onCommit?.(operations);
  }
}

/** One connection's queue: its transactions run one after another, in plan order. */
class Lane {
  private queue: LoadOperation[] = [];
  private draining = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly writer: Writer) {}

  get queued(): number {
    return this.queue.length;
  }

  push(operations: LoadOperation[]): void {
    if (operations.length === 0) return;
    for (const operation of operations) this.queue.push(operation);
    if (!this.draining) {
      this.draining = true;
      this.running = this.drain();
    }
  }

  clear(): void {
    this.queue = [];
  }

  async idle(): Promise<void> {
    while (this.draining) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.writer.failure) {
        // Whatever queued while the last transaction ran goes into the next ones.
        const batch = this.queue.splice(0, this.writer.maxTransactionSize);
        for (const transaction of toTransactions(batch, this.writer.maxTransactionSize)) {
          if (this.writer.failure) return;
          await this.writer.write(transaction);
        }
      }
    } finally {
      // Cleared in the same turn as the last check of the queue, so a push never goes unseen.
      this.draining = false;
    }
  }
}

async function runStatement(trx: Knex.Transaction, statement: Statement): Promise<void> {
  switch (statement.kind) {
    case 'insert_orders':
      await trx('shop.orders').insert(statement.rows);
      return;
    case 'insert_payments':
      await trx('shop.payments').insert(
        statement.rows.map((row) => ({
          ...row,
          // Serialised here: node-postgres would turn a JSON array into a PostgreSQL array.
          gateway_response:
            row.gateway_response === null ? null : JSON.stringify(row.gateway_response),
        })),
      );
      return;
    case 'update_order':
      expectOneRow(
        statement,
        await trx('shop.orders').where({ id: statement.id }).update(statement.set),
      );
      return;
    case 'delete_order':
      expectOneRow(statement, await trx('shop.orders').where({ id: statement.id }).delete());
      return;
    case 'change_order_id':
      expectOneRow(
        statement,
        await trx('shop.orders').where({ id: statement.id }).update({ id: statement.newId }),
      );
      return;
  }
}

function expectOneRow(statement: Statement, rows: number): void {
  if (rows !== 1) {
    // The plan is the model of the table: a miss means someone else changed these rows.
    throw new Error(`expected to change 1 row of shop.orders, changed ${rows}`);
  }
}

// SQLSTATE classes where the server or the connection went away: a retry later may work.
const RETRIABLE_SQLSTATE = /^(08|53|57P0)/;
const RETRIABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);
// What the pg driver says, without a code, of a connection the server dropped.
const RETRIABLE_MESSAGE = /Connection terminated|connection error and is not queryable/;

export function writeFailure(error: unknown, statement: Statement | undefined): TidemarkError {
  const code = (error as { code?: unknown }).code;
  const reason = error instanceof Error ? error.message : String(error);
  const retriable =
    (typeof code === 'string' && (RETRIABLE_SQLSTATE.test(code) || RETRIABLE_SOCKET.has(code))) ||
    RETRIABLE_MESSAGE.test(reason);
  const what = statement ? describeStatement(statement) : 'commit of a load transaction';
  const hint =
    code === '42P01' ? ' (are the source migrations applied? `npx tidemark migrate`)' : '';
  // The runtime's error codes have no "write failed" yet: connection loss is the source being
  // unavailable, anything else means the plan and the database disagree.
  return new TidemarkError(
    retriable ? 'CONNECT_UNAVAILABLE' : 'BAD_INPUT',
    `load: ${what} failed: ${reason}${hint}`,
    {
      retriable,
      cause: error,
      context: {
        operation: statement?.operations[0]?.kind,
        statement: statement?.kind,
        ids: statement ? statementIds(statement).slice(0, 10) : [],
        sqlState: code,
      },
    },
  );
}

function describeStatement(statement: Statement): string {
  const operation = statement.operations[0]?.kind ?? statement.kind;
  switch (statement.kind) {
    case 'insert_orders':
    case 'insert_payments': {
      const first = statement.rows[0]?.id;
      const rows = statement.rows.length;
      return `${operation} (${rows} row${rows === 1 ? '' : 's'} into shop.${statement.kind === 'insert_orders' ? 'orders' : 'payments'}, first id ${first})`;
    }
    case 'change_order_id':
      return `${operation} of order ${statement.id} to ${statement.newId}`;
    default:
      return `${operation} of order ${statement.id}`;
  }
}

function statementIds(statement: Statement): string[] {
  if (statement.kind === 'insert_orders' || statement.kind === 'insert_payments') {
    return statement.rows.map((row) => row.id);
  }
  return [statement.id];
}

function recordId(ids: LoadReport['ids'], operation: LoadOperation): void {
  switch (operation.kind) {
    case 'insert_order':
    case 'insert_payment':
      ids[operation.kind].push(operation.row.id);
      if (operation.poison) ids.poison.push(operation.row.id);
      if (operation.timing === 'late') ids.late.push(operation.row.id);
      return;
    case 'change_order_id':
      ids.change_order_id.push(operation.after.id);
      ids.idChanges.push({ from: operation.before.id, to: operation.after.id });
      return;
    default:
      ids[operation.kind].push(operation.before.id);
  }
}

function emptyReport(seed: number, targetRatePerSec: number): LoadReport {
  const perKind = <T>(make: () => T) =>
    Object.fromEntries(OPERATION_KINDS.map((kind) => [kind, make()])) as Record<OperationKind, T>;
  return {
    seed,
    targetRatePerSec,
    achievedRatePerSec: 0,
    startedAt: new Date(),
    endedAt: new Date(),
    stoppedBy: 'duration',
    operations: 0,
    byKind: perKind(() => 0),
    changes: 0,
    poison: 0,
    late: 0,
    outOfOrder: 0,
    ids: { ...perKind((): string[] => []), poison: [], late: [], idChanges: [] },
  };
}
