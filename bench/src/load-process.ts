import { runLoad } from '@tidemark/loadgen';
import { createDatabase, createLogger, loadConfig } from '@tidemark/runtime';
import type { LoadRequest, LoadSummary } from './source-load';

/**
 * Composition root of the bench's source writer, a process of its own so that writing the load
 * does not share the pipeline's event loop. Reads a LoadRequest (JSON) from argv, logs progress
 * on stderr and prints a LoadSummary (JSON) on stdout.
 */
async function main(requestJson: string | undefined): Promise<void> {
  if (!requestJson) throw new Error('usage: load-process.ts <LoadRequest as JSON>');
  const request = JSON.parse(requestJson) as LoadRequest;
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, fields: { component: 'bench-load' } });
  const source = createDatabase(config.source, (request.connections ?? 4) + 1);
  try {
    const report = await runLoad(
      source,
      { ...request, recordIds: false },
      {
        onProgress: (progress) =>
          logger.info('load progress', {
            operations: progress.operations,
            ratePerSec: progress.ratePerSec,
            backlog: progress.backlog,
          }),
      },
    );
    const summary: LoadSummary = {
      operations: report.operations,
      changes: report.changes,
      achievedRatePerSec: report.achievedRatePerSec,
      startedAtMs: report.startedAt.getTime(),
      endedAtMs: report.endedAt.getTime(),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await source.destroy();
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: 'bench load failed', error: String(error) })}\n`,
    );
    process.exit(1);
  },
);
