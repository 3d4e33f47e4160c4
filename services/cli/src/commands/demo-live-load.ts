import { runLoad, type LoadReport } from '@tidemark/loadgen';
import type { BatchStats, SessionStats, StreamPipeline } from '@tidemark/stream';
import type { Knex } from 'knex';
import { renderTable } from '../table';

const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
const MINUTE = 60_000;

/** What the pipeline did during the load, counted from its batches. */
export class StreamTally {
  applied = 0;
  duplicates = 0;
  late = 0;
  deadLettered = 0;

  observe(stats: BatchStats): void {
    this.applied += stats.applied;
    this.duplicates += stats.duplicates;
    this.late += stats.late;
    this.deadLettered += stats.deadLettered;
  }

  observeSessions(stats: SessionStats): void {
    for (const count of stats.lateByTopic.values()) this.late += count;
  }
}

interface LiveLoadOptions {
  source: Knex;
  warehouse: Knex;
  stream: StreamPipeline;
  tally: StreamTally;
  pipeline: string;
  print: (line: string) => void;
  /** Redraw the table in place (a terminal) rather than printing a snapshot every few seconds. */
  redraw: boolean;
  ratePerSec: number;
  durationMs: number;
  /** customer_id is `<customerPrefix>-<n>`. */
  customerPrefix: string;
}

/**
 * Runs a realistic load (updates, deletes, retries, late and poison rows) while showing the
 * provisional values of the last minutes as they change.
 */
export async function runLiveLoad(options: LiveLoadOptions): Promise<LoadReport> {
  const { print } = options;
  const startedAt = Date.now();
  let shownLines = 0;
  let operations = 0;
  let lastSnapshotAt = 0;
  const show = async (final: boolean) => {
    const lines = (await renderLive(options, operations, startedAt)).split('\n');
    if (options.redraw) {
      if (shownLines > 0) process.stdout.write(`\u001b[${shownLines}A\u001b[0J`);
      for (const line of lines) print(line);
      shownLines = lines.length;
    } else if (final || Date.now() - lastSnapshotAt >= 5_000) {
      lastSnapshotAt = Date.now();
      for (const line of lines) print(line);
      print('');
    }
  };
  let refreshing = Promise.resolve();
  const timer = setInterval(() => {
    refreshing = refreshing.then(() => show(false)).catch(() => undefined);
  }, 1_000);
  try {
    const report = await runLoad(
      options.source,
      {
        ratePerSec: options.ratePerSec,
        durationMs: options.durationMs,
        currencies: CURRENCIES,
        customerPrefix: options.customerPrefix,
        customers: 200,
        updates: 0.12,
        deletes: 0.02,
        duplicates: 0.01,
        pkChanges: 0.005,
        payments: 0.2,
        poison: 0.002,
        late: 0.01,
        outOfOrder: 0.1,
        recordIds: false,
      },
      { onProgress: (progress) => (operations = progress.operations) },
    );
    operations = report.operations;
    // Give the stream a moment to apply the load's tail before the last picture.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return report;
  } finally {
    clearInterval(timer);
    await refreshing;
    await show(true);
  }
}

async function renderLive(
  options: LiveLoadOptions,
  operations: number,
  startedAt: number,
): Promise<string> {
  const since = new Date(Math.floor((Date.now() - 2 * MINUTE) / MINUTE) * MINUTE);
  const rows = await options
    .warehouse('provisional.metric_values')
    .where({ pipeline: options.pipeline })
    .whereIn('metric', ['orders_per_minute', 'revenue_per_minute'])
    .whereIn(
      'group_key',
      CURRENCIES.map((currency) => JSON.stringify([currency])),
    )
    .where('window_start', '>=', since)
    .select('metric', 'window_start', 'group_key', 'value', 'revision');
  const cell = new Map<string, string>();
  const windows = new Set<number>();
  for (const row of rows) {
    const window = new Date(row.window_start).getTime();
    windows.add(window);
    const [currency] = JSON.parse(row.group_key) as string[];
    const value =
      row.value === null
        ? '…'
        : row.metric === 'revenue_per_minute'
          ? (Number(row.value) / 100).toFixed(2)
          : String(Number(row.value));
    cell.set(`${window}|${currency}|${row.metric}`, `${value} r${row.revision}`);
  }
  const table = renderTable(
    ['minute', ...CURRENCIES.flatMap((currency) => [`${currency} orders`, `${currency} revenue`])],
    [...windows]
      .sort((a, b) => a - b)
      .map((window) => [
        new Date(window).toISOString().slice(11, 16),
        ...CURRENCIES.flatMap((currency) => [
          cell.get(`${window}|${currency}|orders_per_minute`) ?? '',
          cell.get(`${window}|${currency}|revenue_per_minute`) ?? '',
        ]),
      ]),
  );
  const { tally } = options;
  const watermark = options.stream.watermarks().get('orders_per_minute') ?? null;
  const elapsed = Math.max(1, (Date.now() - startedAt) / 1000);
  return [
    table,
    `load ${operations} ops (${Math.round(operations / elapsed)}/s) · stream applied ${tally.applied} changes, ${tally.duplicates} redelivered, ${tally.late} late, ${tally.deadLettered} dead letters · watermark ${watermark === null ? 'not yet' : `${new Date(watermark).toISOString().slice(11, 19)} (${((Date.now() - watermark) / 1000).toFixed(1)} s behind)`}`,
  ].join('\n');
}
