import type { LoadOptions } from '@tidemark/loadgen';
import { TidemarkError, type Logger } from '@tidemark/runtime';
import type { Admin } from 'kafkajs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { endOffsets, waitForDelivery } from './kafka-offsets';
import type { OffsetRange } from './offset-marks';

/** The bench's rows belong to customers of their own. */
export const BENCH_CUSTOMER_PREFIX = 'bench';

/** What the writer process runs: the default mix of inserts, updates and deletes. */
export type LoadRequest = Pick<
  LoadOptions,
  | 'ratePerSec'
  | 'durationMs'
  | 'operations'
  | 'connections'
  | 'seed'
  | 'customerPrefix'
  | 'customers'
>;

/** What the writer process reports: everything counted was committed. */
export interface LoadSummary {
  operations: number;
  /** Row changes PostgreSQL logged. */
  changes: number;
  achievedRatePerSec: number;
  startedAtMs: number;
  endedAtMs: number;
}

export interface DeliveredLoad {
  range: OffsetRange;
  load: LoadSummary;
  /** From the load's start to the last message Debezium delivered for it. */
  deliveredMs: number;
}

const LOAD_PROCESS = fileURLToPath(new URL('./load-process.ts', import.meta.url));

/**
 * Writes a load into the source database (from a process of its own) and waits until Debezium
 * has delivered it: the change topics' range between the end offsets before and after holds its
 * messages (and only them, if nothing else writes to the shop tables meanwhile).
 */
export async function writeAndDeliver(
  admin: Admin,
  topics: readonly string[],
  request: Omit<LoadRequest, 'customerPrefix'>,
  delivery: { quietMs: number; timeoutMs: number },
  logger: Logger,
): Promise<DeliveredLoad> {
  const start = await endOffsets(admin, topics);
  const load = await runLoadProcess({ ...request, customerPrefix: BENCH_CUSTOMER_PREFIX });
  logger.info('load written', { ...load });
  const { end, lastMovedAtMs } = await waitForDelivery(admin, topics, start, {
    minMessages: load.changes,
    quietMs: delivery.quietMs,
    timeoutMs: delivery.timeoutMs,
    logger,
  });
  return { range: { start, end }, load, deliveredMs: lastMovedAtMs - load.startedAtMs };
}

/** Runs load-process.ts with this process's loader (tsx), its progress logs passed through. */
function runLoadProcess(request: LoadRequest): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, LOAD_PROCESS, JSON.stringify(request)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new TidemarkError('BAD_INPUT', `the load process exited with ${code}; see above`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as LoadSummary);
      } catch (error) {
        reject(
          new TidemarkError('BAD_INPUT', 'the load process printed no summary', { cause: error }),
        );
      }
    });
  });
}
