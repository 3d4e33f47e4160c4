import { METRICS } from '@tidemark/contracts';
import {
  createDatabase,
  createKafka,
  ensureTopics,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import { startStreamPipeline, type StreamPipelineOptions } from '@tidemark/stream';
import { createTidemarkWorker } from '@tidemark/workflows';
import { shopStreamTopology } from './connector';

/**
 * Starts the stream pipeline over the shop connector's topics: the composition root of the
 * streaming layer. The caller owns `warehouse` and stops the pipeline.
 */
export async function startShopPipeline(
  config: Config,
  logger: Logger,
  warehouse: StreamPipelineOptions['warehouse'],
  overrides: Partial<StreamPipelineOptions> = {},
) {
  const topology = await shopStreamTopology(config);
  const kafka = createKafka(config, overrides.pipeline ?? config.stream.pipeline, logger);
  await ensureTopics(kafka, [topology.heartbeatTopic, topology.deadLetterTopic], 1);
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
    ...overrides,
  });
}

/** Runs the stream pipeline until SIGINT/SIGTERM, then commits what it has and disconnects. */
export async function runStream(config: Config, logger: Logger): Promise<void> {
  const warehouse = createDatabase(config.warehouse);
  const stream = await startShopPipeline(config, logger, warehouse);
  await stream.joined;
  logger.info('stream pipeline running', { pipeline: stream.pipeline });
  await untilSignal();
  await stream.stop();
  await warehouse.destroy();
  logger.info('stream stopped');
}

/** Runs the Temporal worker until SIGINT/SIGTERM (the SDK drains in-flight tasks on shutdown). */
export async function runWorker(config: Config, logger: Logger): Promise<void> {
  const warehouse = createDatabase(config.warehouse);
  const { worker, connection } = await createTidemarkWorker({ config, warehouse });
  logger.info('worker polling', { taskQueue: config.temporal.taskQueue });
  await worker.run();
  await connection.close();
  await warehouse.destroy();
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
