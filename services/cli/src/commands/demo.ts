import { writeOrders, type DemoOrder } from '@tidemark/loadgen';
import {
  createDatabase,
  createKafka,
  waitFor,
  withTimeout,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import { startChangelogLanding } from '@tidemark/stream';
import {
  createTemporalClient,
  createTidemarkWorker,
  traceChangeWorkflow,
  type LandedChangeSummary,
} from '@tidemark/workflows';
import { renderTable } from '../table';
import { describeConnector, registerShopConnector, shopChangeTopics } from './connector';
import { migrateAll } from './migrate';

const DEMO_ORDERS = 5;

interface OrderJourney {
  order: DemoOrder;
  landed: LandedChangeSummary;
  workflowMs: number;
  workflowId: string;
}

/**
 * The walking skeleton, end to end on the running stack: orders written to shop.orders travel
 * through Debezium, Kafka and the landing consumer into the warehouse, and a Temporal workflow
 * reads each one back. Prints where each arrived and how long each hop took.
 */
export async function runDemo(
  config: Config,
  logger: Logger,
  print: (line: string) => void,
): Promise<void> {
  const applied = await migrateAll(config);
  print(
    `migrations: source ${applied.source.length} applied, warehouse ${applied.warehouse.length} applied (up to date)`,
  );
  print(`debezium:   ${describeConnector(await registerShopConnector(config, logger))}`);

  const source = createDatabase(config.source);
  const warehouse = createDatabase(config.warehouse);
  const taskQueue = `tidemark-demo-${process.pid}`;
  const { worker, connection } = await createTidemarkWorker({ config, warehouse, taskQueue });
  const workerRun = worker.run();
  const client = await createTemporalClient(config);
  const landing = await startChangelogLanding({
    kafka: createKafka(config, 'tidemark-demo', logger),
    warehouse,
    logger,
    groupId: 'tidemark-landing',
    topics: await shopChangeTopics(config),
    fromBeginning: true,
  });
  try {
    await withTimeout(landing.joined, 60_000, 'the landing consumer to join its group');
    print(`stream:     landing consumer joined, worker polling task queue ${taskQueue}`);

    const orders = await writeOrders(source, DEMO_ORDERS, { customerPrefix: 'demo' });
    print(`source:     wrote ${orders.length} orders into shop.orders`);
    await waitFor(
      `${orders.length} demo orders to land in raw.change_events`,
      async () => {
        const landed = await warehouse('raw.change_events')
          .where({ source_table: 'shop.orders' })
          .whereRaw("primary_key->>'id' = ANY(?)", [orders.map((order) => order.id)])
          .countDistinct({ count: 'primary_key' });
        return Number(landed[0]?.count) === orders.length ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const journeys = await Promise.all(
      orders.map(async (order): Promise<OrderJourney> => {
        const workflowId = `demo-trace-${order.id}`;
        const startedAtMs = Date.now();
        const changes = await client.workflow.execute(traceChangeWorkflow, {
          taskQueue,
          workflowId,
          args: [{ table: 'shop.orders', primaryKey: { id: order.id } }],
          // A demo that cannot reach its worker fails with a message instead of waiting forever.
          workflowExecutionTimeout: '1 minute',
        });
        const landed = changes[0];
        if (!landed) throw new Error(`workflow ${workflowId} returned no change`);
        return { order, landed, workflowMs: Date.now() - startedAtMs, workflowId };
      }),
    );
    print('');
    print(renderJourneys(journeys));
    print('');
    print(
      'commit→kafka: source commit (Debezium source.ts_ms) to the Kafka record written by Connect;',
    );
    print(
      'kafka→warehouse: to the row in raw.change_events; workflow: traceChangeWorkflow reading it back.',
    );
    print(`workflows:  ${journeys[0]?.workflowId ?? ''} ... (see the Temporal UI)`);
  } finally {
    await landing.stop();
    worker.shutdown();
    await workerRun;
    await connection.close();
    await client.connection.close();
    await Promise.all([source.destroy(), warehouse.destroy()]);
  }
}

function renderJourneys(journeys: readonly OrderJourney[]): string {
  const ms = (from: string, to: string) => new Date(to).getTime() - new Date(from).getTime();
  return renderTable(
    [
      'order',
      'amount',
      'captured as',
      'commit→kafka ms',
      'kafka→warehouse ms',
      'commit→warehouse ms',
      'workflow ms',
    ],
    journeys.map(({ order, landed, workflowMs }) => [
      order.id.slice(0, 8),
      `${(order.amount_minor / 100).toFixed(2)} ${order.currency}`,
      `op=${landed.op} lsn=${landed.lsn}`,
      ms(landed.committedAt, landed.kafkaTimestamp),
      ms(landed.kafkaTimestamp, landed.landedAt),
      ms(landed.committedAt, landed.landedAt),
      workflowMs,
    ]),
  );
}
