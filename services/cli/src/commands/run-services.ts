import { METRICS } from '@tidemark/contracts';
import {
  createDatabase,
  createKafka,
  requireTopics,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import {
  createStreamMetrics,
  startObservabilityServer,
  startStreamPipeline,
  type ObservabilityServer,
  type StreamPipelineOptions,
} from '@tidemark/stream';
import {
  createPlatformMetrics,
  createTidemarkWorker,
  readFinalHealth,
  readSlotHealth,
} from '@tidemark/workflows';
import { shopStreamTopology } from './connector';
import { startConnectorWatchdog } from './connector-watchdog';
import { failuresOf } from './connector-watchdog-plan';
import { SHOP_CONNECTOR_NAME } from '../paths';

/**
 * Starts the stream pipeline over the shop connector's topics: the composition root of the
 * streaming layer, authenticated to Kafka as the stream principal. The caller owns `warehouse`
 * (the stream's role, `config.warehouseStream`) and stops the pipeline.
 */
export async function startShopPipeline(
  config: Config,
  logger: Logger,
  warehouse: StreamPipelineOptions['warehouse'],
  overrides: Partial<StreamPipelineOptions> = {},
) {
  const topology = await shopStreamTopology(config);
  const kafka = createKafka(config, overrides.pipeline ?? config.stream.pipeline, logger, 'stream');
  await requireTopics(kafka, [
    ...topology.changeTopics.values(),
    topology.heartbeatTopic,
    topology.deadLetterTopic,
  ]);
  return startStreamPipeline({
    kafka,
    warehouse,
    logger,
    pipeline: config.stream.pipeline,
    topics: topology.changeTopics,
    heartbeatTopic: topology.heartbeatTopic,
    deadLetterTopic: topology.deadLetterTopic,
    metrics: METRICS,
    startAt: config.stream.startAt,
    idleTimeoutMs: config.stream.idleTimeoutMs,
    sessionTimeoutMs: config.stream.sessionTimeoutMs,
    concurrency: config.stream.concurrency,
    maxMessageBytes: config.stream.maxMessageBytes,
    plausibleTimes: {
      earliestMs: config.stream.plausibleFromMs,
      aheadMs: config.stream.plausibleAheadMs,
    },
    ...overrides,
  });
}

/**
 * Runs the stream pipeline with its Prometheus metrics, /healthz and /readyz until SIGINT or
 * SIGTERM, then lets the batch in flight commit and disconnects. /readyz fails while the consumer
 * is not consuming; a consumer that stopped for good stops the pipeline and gives exit code 1, so
 * a supervisor restarts it instead of leaving a live process that consumes nothing.
 */
export async function runStream(config: Config, logger: Logger): Promise<number> {
  const warehouse = createDatabase(config.warehouseStream);
  const metrics = createStreamMetrics(undefined, { pipeline: config.stream.pipeline });
  // Ready only once the pipeline is started, and then while its consumer consumes.
  let consuming = () => false;
  const server = await startObservabilityServer({
    port: config.stream.metricsPort,
    portSetting: 'TIDEMARK_METRICS_PORT',
    registry: metrics.registry,
    ready: () => consuming(),
    logger,
  });
  const running = await startShopPipeline(config, logger, warehouse, {
    onBatch: (stats) => metrics.observeBatch(stats),
    onEmitted: (stats) => metrics.observeEmitted(stats),
    onSessions: (stats) => metrics.observeSessions(stats),
    onSessionQueue: (queue) => metrics.observeSessionQueue(queue),
    onGap: (gap) => metrics.observeGap(gap),
  });
  consuming = () => running.health().consuming;
  await Promise.race([running.joined, running.failed]);
  const watermarks = setInterval(
    () => metrics.observeWatermarks(running.watermarks(), Date.now()),
    1_000,
  );
  logger.info('stream pipeline running', {
    pipeline: running.pipeline,
    metrics: `http://127.0.0.1:${server.port}/metrics`,
  });
  const failure = await Promise.race([untilSignal().then(() => undefined), running.failed]);
  clearInterval(watermarks);
  await running.stop();
  await server.close();
  await warehouse.destroy();
  if (failure) {
    logger.error('stream stopped: its consumer crashed and cannot go on; exiting with code 1', {
      error: String(failure),
    });
    return 1;
  }
  logger.info('stream stopped');
  return 0;
}

/**
 * Runs the Temporal worker until SIGINT/SIGTERM (the SDK drains in-flight tasks on shutdown),
 * with the Debezium connector's watchdog (restarts what FAILED) and the platform's Prometheus
 * metrics (the replication slot, the connector, the final days' state), /healthz and /readyz on
 * `TIDEMARK_WORKER_METRICS_PORT`: ready while it polls.
 */
export async function runWorker(config: Config, logger: Logger): Promise<void> {
  // No activity statement outlives the activities' 10-minute start-to-close timeout.
  const warehouse = createDatabase(config.warehouseWorker, 10, {
    statementTimeoutMs: 9 * 60_000,
  });
  const sourceReader = createDatabase(config.sourceReader, 2);
  const watchdog = startConnectorWatchdog({
    connectUrl: config.connect.url,
    connector: SHOP_CONNECTOR_NAME,
    logger,
  });
  let running: Awaited<ReturnType<typeof createTidemarkWorker>> | undefined;
  let server: ObservabilityServer | undefined;
  try {
    // Before the Temporal worker: a metrics port already taken ends the process at once.
    server = await startObservabilityServer({
      port: config.worker.metricsPort,
      portSetting: 'TIDEMARK_WORKER_METRICS_PORT',
      registry: createPlatformMetrics(async () => {
        const { status, restarts } = watchdog.observed();
        return {
          slots: await readSlotHealth(sourceReader),
          final: await readFinalHealth(warehouse),
          connectors: [
            {
              connector: SHOP_CONNECTOR_NAME,
              failed: status === undefined ? null : failuresOf(status).length,
              restarts,
            },
          ],
        };
      }),
      ready: () => running?.worker.getState() === 'RUNNING',
      logger,
    });
    running = await createTidemarkWorker({ config, warehouse, source: sourceReader });
    logger.info('worker polling', {
      taskQueue: config.temporal.taskQueue,
      metrics: `http://127.0.0.1:${server.port}/metrics`,
    });
    await running.worker.run();
  } finally {
    await watchdog.stop();
    await server?.close();
    await running?.connection.close();
    await Promise.all([warehouse.destroy(), sourceReader.destroy()]);
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
