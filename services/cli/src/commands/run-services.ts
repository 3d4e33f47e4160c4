import { createDatabase, createKafka, type Config, type Logger } from '@tidemark/runtime';
import { startChangelogLanding } from '@tidemark/stream';
import { createTidemarkWorker } from '@tidemark/workflows';
import { shopChangeTopics } from './connector';

/** Runs the changelog landing consumer until SIGINT/SIGTERM, then disconnects cleanly. */
export async function runStream(config: Config, logger: Logger): Promise<void> {
  const warehouse = createDatabase(config.warehouse);
  const topics = await shopChangeTopics(config);
  const landing = await startChangelogLanding({
    kafka: createKafka(config, 'tidemark-stream', logger),
    warehouse,
    logger,
    groupId: 'tidemark-landing',
    topics,
    fromBeginning: true,
  });
  await landing.joined;
  logger.info('landing changes', { topics });
  await untilSignal();
  await landing.stop();
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
