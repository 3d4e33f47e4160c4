// One more consumer process of a bench pipeline, for the scale-out phase: the real shop pipeline
// joined to the same consumer group as the bench's own, until SIGTERM. It prints `joined` once
// it has. Usage (from bench/): node --import tsx src/pipeline-process.ts <pipeline>
import { startShopPipeline } from '@tidemark/cli';
import { createDatabase, createLogger, loadConfig } from '@tidemark/runtime';

const pipeline = process.argv[2];
if (!pipeline) {
  process.stderr.write('usage: pipeline-process.ts <pipeline>\n');
  process.exit(2);
}
const config = loadConfig();
const warehouse = createDatabase(config.warehouse);
const logger = createLogger({ level: 'error', fields: { component: 'stream' } });
const stream = await startShopPipeline(config, logger, warehouse, { pipeline, startAt: 'latest' });
process.once('SIGTERM', () => {
  void stream
    .stop()
    .finally(() => warehouse.destroy())
    .finally(() => process.exit(0));
});
await stream.joined;
process.stdout.write('joined\n');
