import { startShopPipeline } from '@tidemark/cli';
import {
  createKafka,
  createLogger,
  withTimeout,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import { PIPELINE_STATE, resetPipeline, type StreamPipeline } from '@tidemark/stream';
import type { Admin } from 'kafkajs';
import type { Knex } from 'knex';
import type { OffsetMarks } from './offset-marks';
import { positionPipeline, type BatchTap } from './pipeline-run';

/** Starts and stops the bench's pipelines: the real shop pipeline, positioned by the bench. */
export class ShopPipelines {
  private readonly running = new Map<string, StreamPipeline>();
  // The pipeline's own warnings (late rows, per batch) would drown the bench's progress lines.
  private readonly pipelineLogger = createLogger({
    level: 'error',
    fields: { component: 'stream' },
  });

  constructor(
    private readonly config: Config,
    private readonly warehouse: Knex,
    private readonly admin: Admin,
    private readonly tap: BatchTap,
  ) {}

  /** Starts a fresh pipeline at `at` and resolves once it has joined its group. */
  async start(pipeline: string, at: OffsetMarks, logger: Logger): Promise<StreamPipeline> {
    await positionPipeline(this.warehouse, this.admin, pipeline, at);
    return this.join(pipeline, logger);
  }

  /** Starts a consumer of a pipeline already positioned, and resolves once it has joined. */
  async join(pipeline: string, logger: Logger): Promise<StreamPipeline> {
    const startingAtMs = Date.now();
    const stream = await startShopPipeline(this.config, this.pipelineLogger, this.warehouse, {
      pipeline,
      startAt: 'latest',
      onBatch: this.tap.onBatch,
      onEmitted: this.tap.onEmitted,
    });
    this.running.set(pipeline, stream);
    await withTimeout(stream.joined, 60_000, `pipeline ${pipeline} to join its group`);
    logger.info('pipeline joined', { pipeline, startupMs: Date.now() - startingAtMs });
    return stream;
  }

  /** Stops a pipeline and forgets everything it derived: a bench leaves no state behind. */
  async stop(pipeline: string): Promise<void> {
    const stream = this.running.get(pipeline);
    this.running.delete(pipeline);
    await stream?.stop();
    await resetPipeline(
      this.warehouse,
      createKafka(this.config, 'tidemark-bench', this.pipelineLogger),
      pipeline,
    );
    // What the pipeline derived is deleted; vacuumed too, so that the next phase (or the next
    // bench on this warehouse) does not probe indexes full of dead rows.
    for (const [table] of PIPELINE_STATE) await this.warehouse.raw(`VACUUM ${table}`);
  }

  async stopAll(logger: Logger): Promise<void> {
    for (const pipeline of [...this.running.keys()]) {
      await this.stop(pipeline).catch((error: unknown) =>
        logger.warn('could not stop a pipeline', { pipeline, error: String(error) }),
      );
    }
  }
}
