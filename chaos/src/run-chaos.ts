import type { Client, WorkflowHandle } from '@temporalio/client';
import { killAndRestart } from '@tidemark/cli';
import { runLoad, seededRandom } from '@tidemark/loadgen';
import {
  createDatabase,
  createKafka,
  silentLogger,
  waitFor,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import { backfillWorkflow, createTemporalClient, type BackfillReport } from '@tidemark/workflows';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  lateLedgerValues,
  orderValuesFromSource,
  provisionalValues,
  withLate,
  type WindowValues,
} from '../../test/integration/shop-values';
import { floodCheck, type FloodResult } from './flood';
import { BATCH_FAULTS, chaosPlan, type Fault } from './plan';
import { freePort, PlatformProcess } from './processes';
import { countDifferences, passed, type ChaosChecks, type Injection } from './report';

export interface ChaosOptions {
  faults: Fault[];
  rounds: number;
  /** The steady load's operations per second. */
  ratePerSec: number;
  seed: number;
  minWaitMs: number;
  maxWaitMs: number;
  /** An injection not recovered from within this is reported as not recovered. */
  recoveryTimeoutMs: number;
  /** Days each round's backfill recomputes. */
  backfillDays: number;
  /** Poison rows of the flood before the faults (and as many good ones); 0: no flood. */
  floodRows: number;
}

export interface ChaosResult {
  startedAt: string;
  finishedAt: string;
  options: ChaosOptions;
  stack: 'docker' | 'native';
  /** The run's pipeline (stream consumer group, worker task queue) and its load's currencies. */
  pipeline: string;
  currencies: string[];
  load: { operations: number; segments: number };
  flood?: FloodResult;
  injections: Injection[];
  checks: ChaosChecks;
  passed: boolean;
}

const DAY_MS = 86_400_000;
const MINUTE = 60_000;
const letters = (random: () => number) =>
  Array.from({ length: 3 }, () => String.fromCharCode(65 + Math.floor(random() * 26))).join('');

/**
 * Runs the platform (a stream and a worker process of its own pipeline and task queue) under a
 * steady load, injects the planned faults one after another, each followed by the time until the
 * platform does its work again, then lets everything catch up and checks the values against
 * the source tables.
 */
export async function runChaos(
  config: Config,
  options: ChaosOptions,
  log: Logger,
): Promise<ChaosResult> {
  const startedAt = new Date();
  const random = seededRandom(options.seed);
  const tag = randomUUID().slice(0, 8);
  const pipeline = `chaos-${tag}`;
  const stack = process.env.TIDEMARK_STACK === 'docker' ? 'docker' : 'native';
  // The live load's currencies, a currency for the probes that time recoveries, and the
  // backfilled history's own currency and customers.
  // Names of its own each run, whatever the seed: final values are per currency, whoever wrote
  // the rows, so a currency another run used would mix their orders into this run's checks.
  const run = {
    currencies: [letters(Math.random), letters(Math.random), letters(Math.random)],
    customerPrefix: pipeline,
  };
  const probeCurrency = run.currencies[2]!;
  const history = { currencies: [letters(Math.random)], customerPrefix: `${pipeline}-history` };
  const year = 2001 + Math.floor(Math.random() * 15);

  const source = createDatabase(config.source, 4);
  const warehouse = createDatabase(config.warehouse, 4);
  const common = { TIDEMARK_STREAM_PIPELINE: pipeline };
  const stream = new PlatformProcess('stream', await freePort(), {
    ...common,
    TIDEMARK_STREAM_START: 'latest',
  });
  const worker = new PlatformProcess('worker', await freePort(), {
    ...common,
    TIDEMARK_TEMPORAL_TASK_QUEUE: pipeline,
  });
  let client: Client | undefined;
  const stopLoad = new AbortController();
  try {
    await stream.start();
    await worker.start();
    client = await createTemporalClient(config);
    const temporal = client;

    let flood: FloodResult | undefined;
    if (options.floodRows > 0) {
      log.info('poison flood', { rows: options.floodRows });
      flood = await floodCheck({
        source,
        warehouse,
        kafka: createKafka(config, `${pipeline}-flood`, silentLogger),
        stream,
        pipeline,
        topic: `${config.kafka.topicPrefix}.shop.orders`,
        customerPrefix: pipeline,
        currency: letters(Math.random),
        goodRows: options.floodRows,
        poisonRows: options.floodRows,
      });
      log.info('poison flood done', { ...flood });
    }
    // Dead letters from here on are defects: the load writes no poison.
    const faultsFrom = new Date();

    const ranges = Array.from({ length: options.rounds }, (_, index) => {
      const from = Date.UTC(year, index, 1);
      return { from, to: from + options.backfillDays * DAY_MS };
    });
    log.info('writing the backfills history', { days: options.rounds * options.backfillDays });
    await writeHistory(source, warehouse, history, ranges);

    log.info('steady load started', { ratePerSec: options.ratePerSec, pipeline });
    const load = steadyLoad(source, options, run, stopLoad.signal, log);
    // Awaited after the faults; a failure meanwhile must not end the process before `finally`
    // has stopped the stream and the worker.
    load.catch(() => undefined);
    const injections: Injection[] = [];
    const backfills: WorkflowHandle<typeof backfillWorkflow>[] = [];
    const plan = chaosPlan(options.faults, options.rounds, random, options);
    for (let round = 1; round <= options.rounds; round += 1) {
      const range = ranges[round - 1]!;
      const backfill = await temporal.workflow.start(backfillWorkflow, {
        taskQueue: pipeline,
        workflowId: `${pipeline}-backfill-${round}`,
        args: [
          {
            from: isoDay(range.from),
            to: isoDay(range.to - DAY_MS),
            concurrency: 1,
            reason: 'chaos',
          },
        ],
        workflowExecutionTimeout: '30 minutes',
      });
      backfills.push(backfill);
      for (const planned of plan.filter((entry) => entry.round === round)) {
        await sleep(planned.waitMs);
        const duringBackfill = BATCH_FAULTS.includes(planned.fault)
          ? (await backfill.describe()).status.name === 'RUNNING'
          : undefined;
        const killedAt = Date.now();
        log.info('injecting', { round, fault: planned.fault });
        const recovered = await inject(planned.fault).then(
          () => recovery(planned.fault, killedAt, Date.now()),
          (error: unknown) => {
            log.error('injection failed', { fault: planned.fault, error: String(error) });
            return { recoveryMs: null };
          },
        );
        log.info('recovered', { round, fault: planned.fault, ...recovered });
        injections.push({
          round,
          fault: planned.fault,
          ...recovered,
          ...(duringBackfill === undefined ? {} : { duringBackfill }),
        });
      }
    }
    stopLoad.abort();
    const loaded = await load;
    log.info('load stopped; checking', loaded);

    const checks = await check(backfills, faultsFrom);
    return {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options,
      stack,
      pipeline,
      currencies: run.currencies,
      load: loaded,
      ...(flood ? { flood } : {}),
      injections,
      checks,
      passed: passed(injections, checks, flood),
    };

    async function inject(fault: Fault): Promise<void> {
      if (fault === 'stream') {
        await stream.kill();
        await stream.start();
      } else if (fault === 'worker') {
        await worker.kill();
        await worker.start();
      } else {
        await killAndRestart(stack, fault, { quiet: true });
      }
    }

    /**
     * When the platform works again after a kill: for the batch faults, when the round's backfill
     * answers again (the server up, a worker polling); for the others, when a change written to
     * the source after the restart has landed in the warehouse through the pipeline.
     */
    async function recovery(
      fault: Fault,
      killedAt: number,
      restartedAt: number,
    ): Promise<Pick<Injection, 'recoveryMs' | 'stagesMs'>> {
      const limit = { timeoutMs: options.recoveryTimeoutMs, intervalMs: 100 };
      const restart = restartedAt - killedAt;
      try {
        if (BATCH_FAULTS.includes(fault)) {
          await waitFor(
            'the backfill to answer',
            async () => Boolean(await backfills.at(-1)?.describe()),
            limit,
          );
          return { recoveryMs: Date.now() - killedAt, stagesMs: { restart } };
        }
        const id = await waitFor(
          'a probe order to be written',
          () => probe(source, run.customerPrefix, probeCurrency),
          limit,
        );
        const change = await waitFor('the probe order to land', () => landed(warehouse, id), limit);
        const { committed_at: committed, kafka_timestamp: produced, landed_at: landedAt } = change;
        return {
          recoveryMs: Date.now() - killedAt,
          stagesMs: {
            restart,
            capture: produced.getTime() - committed.getTime(),
            land: landedAt.getTime() - produced.getTime(),
          },
        };
      } catch {
        return { recoveryMs: null, stagesMs: { restart } };
      }
    }

    async function check(
      handles: WorkflowHandle<typeof backfillWorkflow>[],
      faultsFrom: Date,
    ): Promise<ChaosChecks> {
      // Provisional values, with what the late ledger holds (changes after their window closed,
      // which provisional values leave out by design): waits for the pipeline to catch up, then
      // counts what differs.
      let counts = { lost: Number.NaN, twice: Number.NaN };
      let late = 0;
      await waitFor(
        'the provisional values to equal the source',
        async () => {
          const expected = await orderValuesFromSource(source, run);
          const ledger = await lateLedgerValues(warehouse, pipeline, run.currencies);
          late = ledger.changes;
          const provisional = (metric: string) =>
            provisionalValues(warehouse, pipeline, metric, run.currencies).then((values) =>
              withLate(values, ledger.values.get(metric)),
            );
          counts = countDifferences(expected.count, await provisional('orders_per_minute'));
          const revenueOff = countDifferences(
            expected.revenue,
            await provisional('revenue_per_minute'),
          );
          return counts.lost + counts.twice + revenueOff.lost + revenueOff.twice === 0 || undefined;
        },
        { timeoutMs: 180_000, intervalMs: 2_000 },
      ).catch(() => undefined);
      let exact = 0;
      for (const [index, handle] of handles.entries()) {
        const report: BackfillReport | undefined = await handle.result().catch(() => undefined);
        const range = ranges[index]!;
        if (report?.status === 'completed' && (await finalEqualsSource(range))) exact += 1;
      }
      return {
        changesLost: counts.lost,
        changesCountedTwice: counts.twice,
        changesLate: late,
        changelogMissing: await changelogMissing(source, warehouse, run),
        backfillsExact: exact,
        backfills: handles.length,
        deadLetters: await deadLettersSince(warehouse, faultsFrom),
      };
    }

    async function finalEqualsSource(range: { from: number; to: number }): Promise<boolean> {
      const inRange = (values: WindowValues) =>
        new Map(
          [...values].filter(([key]) => {
            const start = Number(key.split('|')[0]);
            return start >= range.from && start < range.to;
          }),
        );
      const expected = await orderValuesFromSource(source, history);
      const published = await finalValues(warehouse, history.currencies[0]!, range);
      return (
        sameValues(inRange(expected.count), published.get('orders_per_minute')) &&
        sameValues(inRange(expected.revenue), published.get('revenue_per_minute'))
      );
    }
  } finally {
    stopLoad.abort();
    await Promise.all([stream.stop(), worker.stop()]);
    await client?.connection.close();
    await Promise.all([source.destroy(), warehouse.destroy()]);
  }
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function sameValues(a: WindowValues, b: WindowValues | undefined): boolean {
  const other = b ?? new Map();
  return a.size === other.size && [...a].every(([key, value]) => other.get(key) === value);
}

/** Orders of the history's customers, a few a day, written and landed before the faults. */
async function writeHistory(
  source: Knex,
  warehouse: Knex,
  history: { currencies: string[]; customerPrefix: string },
  ranges: { from: number; to: number }[],
): Promise<void> {
  const ids: string[] = [];
  for (const range of ranges) {
    for (let day = range.from; day < range.to; day += DAY_MS) {
      const rows = [61, 62.5, 400, 1_438].map((minute, n) => ({
        customer_id: `${history.customerPrefix}-${n % 3}`,
        amount_minor: 1_000 + n,
        currency: history.currencies[0],
        status: n === 3 ? 'cancelled' : 'paid',
        created_at: new Date(day + minute * MINUTE),
      }));
      const inserted = (await source('shop.orders').insert(rows).returning('id')) as {
        id: string;
      }[];
      ids.push(...inserted.map((row) => row.id));
    }
  }
  await waitFor(
    'the history to land',
    async () => ((await landedCount(warehouse, ids)) >= ids.length ? true : undefined),
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

/**
 * The load, kept going until `signal`: a write that fails because the source went away (a
 * PostgreSQL kill) ends a segment; the next starts when the source answers again.
 */
async function steadyLoad(
  source: Knex,
  options: ChaosOptions,
  run: { currencies: string[]; customerPrefix: string },
  signal: AbortSignal,
  log: Logger,
): Promise<{ operations: number; segments: number }> {
  let operations = 0;
  let segments = 0;
  while (!signal.aborted) {
    segments += 1;
    try {
      const report = await runLoad(source, {
        ratePerSec: options.ratePerSec,
        durationMs: 24 * 3_600_000,
        signal,
        // Each segment its own seed: new rows get new keys.
        seed: options.seed * 1_000 + segments,
        currencies: run.currencies.slice(0, 2),
        customerPrefix: run.customerPrefix,
        customers: 40,
        updates: 0.2,
        deletes: 0.03,
        duplicates: 0.01,
        pkChanges: 0.01,
        payments: 0.2,
        poison: 0,
      });
      operations += report.operations;
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable) throw error;
      log.info('load segment ended: the source went away', { error: String(error) });
      await waitFor('the source to answer', async () => Boolean(await source.raw('select 1')), {
        timeoutMs: 300_000,
        intervalMs: 500,
      });
    }
  }
  return { operations, segments };
}

/** Inserts one probe order now; undefined while the source does not answer. */
async function probe(
  source: Knex,
  customerPrefix: string,
  currency: string,
): Promise<string | undefined> {
  try {
    const [row] = (await source('shop.orders')
      .insert({ customer_id: `${customerPrefix}-probe`, amount_minor: 1, currency, status: 'paid' })
      .returning('id')) as { id: string }[];
    return row?.id;
  } catch {
    return undefined;
  }
}

async function landedCount(warehouse: Knex, ids: readonly string[]): Promise<number> {
  const [row] = (await warehouse('raw.change_events')
    .where({ source_table: 'shop.orders' })
    .whereRaw('primary_key = ANY(?::jsonb[])', [ids.map((id) => JSON.stringify({ id }))])
    .countDistinct({ landed: 'primary_key' })) as { landed: string }[];
  return Number(row?.landed ?? 0);
}

/** The probe's change once landed: when it committed, Connect produced it, the stream landed it. */
async function landed(
  warehouse: Knex,
  id: string,
): Promise<{ committed_at: Date; kafka_timestamp: Date; landed_at: Date } | undefined> {
  const rows = (await warehouse('raw.change_events')
    .where({ source_table: 'shop.orders' })
    .whereRaw('primary_key = ?::jsonb', [JSON.stringify({ id })])
    .select('committed_at', 'kafka_timestamp', 'landed_at')
    .catch(() => [])) as { committed_at: Date; kafka_timestamp: Date; landed_at: Date }[];
  return rows[0];
}

/** Source orders of the run whose latest change in the changelog is not their current row. */
async function changelogMissing(
  source: Knex,
  warehouse: Knex,
  run: { currencies: string[]; customerPrefix: string },
): Promise<number> {
  const rows = (await source('shop.orders')
    .whereIn('currency', run.currencies)
    .whereLike('customer_id', `${run.customerPrefix}%`)
    .select('id', 'amount_minor', 'status')) as {
    id: string;
    amount_minor: string;
    status: string;
  }[];
  const latest = await warehouse.raw<{
    rows: { id: string; op: string; after: Record<string, unknown> | null }[];
  }>(
    `SELECT DISTINCT ON (primary_key) primary_key->>'id' AS id, op, after
       FROM raw.change_events
      WHERE source_table = 'shop.orders' AND primary_key = ANY(?::jsonb[])
      ORDER BY primary_key, committed_at DESC, lsn DESC`,
    [rows.map((row) => JSON.stringify({ id: row.id }))],
  );
  const byId = new Map(latest.rows.map((row) => [row.id, row]));
  return rows.filter((row) => {
    const change = byId.get(row.id);
    return (
      !change ||
      change.op === 'd' ||
      String(change.after?.amount_minor) !== String(row.amount_minor) ||
      change.after?.status !== row.status
    );
  }).length;
}

async function finalValues(
  warehouse: Knex,
  currency: string,
  range: { from: number; to: number },
): Promise<Map<string, WindowValues>> {
  const rows = (await warehouse('final.metric_values')
    .whereIn('metric', ['orders_per_minute', 'revenue_per_minute'])
    .whereRaw('key_values = ?::jsonb', [JSON.stringify([currency])])
    .where('window_start', '>=', new Date(range.from))
    .where('window_start', '<', new Date(range.to))
    .select('metric', 'window_start', 'value')) as {
    metric: string;
    window_start: Date;
    value: string;
  }[];
  const byMetric = new Map<string, WindowValues>();
  for (const row of rows) {
    if (Number(row.value) === 0) continue;
    const values = byMetric.get(row.metric) ?? new Map<string, number>();
    values.set(`${row.window_start.getTime()}|${currency}`, Number(row.value));
    byMetric.set(row.metric, values);
  }
  return byMetric;
}

async function deadLettersSince(warehouse: Knex, since: Date): Promise<number> {
  const [row] = (await warehouse('ops.dead_letters')
    .where('received_at', '>=', since)
    .count({ n: '*' })) as { n: string }[];
  return Number(row?.n ?? 0);
}
