import type { Client } from '@temporalio/client';
import {
  ConnectClient,
  type Config,
  createDatabase,
  createKafka,
  createLogger,
  loadConfig,
  TidemarkError,
} from '@tidemark/runtime';
import { createTemporalClient, installTemporalRuntime } from '@tidemark/workflows';
import { parseArgs } from 'node:util';
import { AUDIT_USAGE, auditCommand } from './commands/audit';
import { BACKFILL_USAGE, backfillCommand } from './commands/backfill';
import { describeConnector, registerShopConnector, shopStreamTopology } from './commands/connector';
import { CONSOLIDATE_USAGE, consolidateCommand } from './commands/consolidate';
import { contractsCommand } from './commands/contracts';
import { runDemo } from './commands/demo';
import { DLQ_USAGE, dlqCommand } from './commands/dlq';
import { LOAD_USAGE, loadCommand } from './commands/load';
import { migrateAll } from './commands/migrate';
import { runStream, runWorker } from './commands/run-services';
import { QUALITY_USAGE, qualityCommand } from './commands/quality';
import { SCHEDULE_USAGE, scheduleCommand } from './commands/schedule';
import { runStackScript } from './commands/stack';
import { parseStreamArgs, STREAM_USAGE, streamAdminCommand } from './commands/stream-admin';
import { SHOP_CONNECTOR_NAME } from './paths';

const USAGE = `usage: tidemark <command>

stack
  up                     install (once) and start PostgreSQL, Kafka, Kafka Connect + Debezium, Temporal
  status                 health of each component, the Debezium connector included (exit 1 if one is down)
  down                   stop what \`up\` started
  migrate                apply the knex migrations to the source and warehouse databases
  connector register     register (or update) the Debezium connector and wait until it runs
  connector status       the Debezium connector's state

contracts
  contracts check        each contract version against its snapshot and the earlier versions (its mode)
  contracts compat <previous.json> <next.json> --mode BACKWARD [--json]
                         compatibility of two JSON Schemas: exit 0 compatible, 1 not, 2 bad input
  contracts export [--force]
                         write contracts/schemas/<table>/v<N>.json and contracts/CATALOG.md

run
  stream                 provisional metrics from the change topics, with /metrics on
                         TIDEMARK_METRICS_PORT (until Ctrl-C)
  stream gaps [--pipeline <name>] [--json]
                         offsets Kafka deleted before a pipeline read them
  stream reset [--pipeline <name>] [--yes]
                         forget what a stopped pipeline derived, so it starts afresh
  load --rate 5000 --duration 60s [...]
                         write realistic traffic into the source database (tidemark load --help)

dead letters
  dlq list [--since 1h] [--code CONTRACT_VIOLATION] [--limit 50] [--all] [--json]
                         messages that failed decoding or their contract, newest first
  dlq replay [--since <time>] [--id <id>]... [--dry-run]
                         re-validate against the current contracts and re-inject those that pass, once

batch (Temporal; a worker must run)
  worker                 run the Temporal worker, with /metrics on TIDEMARK_WORKER_METRICS_PORT
                         (replication slot, final days; until Ctrl-C)
  consolidate --date <yyyy-mm-dd|yesterday> [--metric <name>]... [--as-of now]
                         consolidate a day into final values now: gate, publish, reconcile
  backfill --metric <name|all> --from <day> --to <day> [--concurrency 4] [--reason <text>]
                         recompute a range of days, one child workflow per day, live progress
  backfill status|pause|resume|cancel <id>, backfill list
  schedule apply|status|trigger
                         the nightly consolidation's Temporal Schedule (TIDEMARK_NIGHTLY_*)

reports
  audit --date <yyyy-mm-dd|latest> [--metric NAME] [--format table|json|html] [--out FILE]
                         a day's reconciliation of provisional against final values (html: report with charts)
  quality --date <yyyy-mm-dd|latest> [--json]
                         the day's quality gate results: exit 0 passed, 1 blocked publication, 2 bad input

  demo                   the end-to-end walk: orders -> Debezium -> Kafka -> warehouse -> workflow
`;

async function main(argv: string[]): Promise<number> {
  // Commands with options of their own parse their arguments themselves.
  if (argv[0] === 'load') return runLoadCommand(argv.slice(1));
  if (argv[0] === 'dlq') return runDlqCommand(argv.slice(1));
  if (argv[0] === 'stream' && argv.length > 1) return runStreamAdminCommand(argv.slice(1));
  if (argv[0] === 'audit') {
    return runReportCommand('audit', AUDIT_USAGE, auditCommand, argv.slice(1));
  }
  if (argv[0] === 'quality') {
    return runReportCommand('quality', QUALITY_USAGE, qualityCommand, argv.slice(1));
  }
  if (argv[0] === 'backfill') {
    return runTemporalCommand('backfill', BACKFILL_USAGE, argv.slice(1), (deps) =>
      backfillCommand(argv.slice(1), {
        ...deps,
        rewrite: process.stdout.isTTY
          ? (line) => process.stdout.write(`\r${line}\x1b[K`)
          : undefined,
      }),
    );
  }
  if (argv[0] === 'consolidate') {
    return runTemporalCommand('consolidate', CONSOLIDATE_USAGE, argv.slice(1), (deps) =>
      consolidateCommand(argv.slice(1), deps),
    );
  }
  if (argv[0] === 'schedule') {
    return runTemporalCommand('schedule', SCHEDULE_USAGE, argv.slice(1), (deps) =>
      scheduleCommand(argv.slice(1), deps),
    );
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        mode: { type: 'string' },
        json: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`tidemark: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const [command, subcommand] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command === 'up' || command === 'down' || command === 'status')
    return runStackScript(command);
  // Contracts commands are pure file work: no configuration, logger or Temporal runtime.
  if (command === 'contracts') {
    return contractsCommand(
      {
        subcommand,
        files: positionals.slice(2),
        mode: values.mode,
        json: values.json,
        force: values.force,
      },
      (line) => process.stdout.write(`${line}\n`),
      (line) => process.stderr.write(`${line}\n`),
    );
  }

  const config = loadConfig();
  const logger = createLogger({
    level: config.logLevel,
    fields: { service: `tidemark-${command}` },
  });
  // The demo shows a blocked publication on purpose: the SDK's warning about it would be noise.
  installTemporalRuntime(
    command === 'demo'
      ? createLogger({ level: 'error', fields: { service: 'tidemark-demo' } })
      : logger,
  );
  const print = (line: string) => process.stdout.write(`${line}\n`);
  switch (command) {
    case 'migrate': {
      const applied = await migrateAll(config);
      print(`source:    ${applied.source.length ? applied.source.join(', ') : 'up to date'}`);
      print(`warehouse: ${applied.warehouse.length ? applied.warehouse.join(', ') : 'up to date'}`);
      return 0;
    }
    case 'connector':
      if (subcommand === 'register') {
        print(describeConnector(await registerShopConnector(config, logger)));
        return 0;
      }
      if (subcommand === 'status') {
        const status = await new ConnectClient(config.connect.url).status(SHOP_CONNECTOR_NAME);
        print(describeConnector(status));
        return status?.state === 'RUNNING' ? 0 : 1;
      }
      process.stderr.write(
        `tidemark connector: expected "register" or "status", got ${JSON.stringify(subcommand ?? '')}\n`,
      );
      return 2;
    case 'stream':
      return runStream(config, logger);
    case 'worker':
      await runWorker(config, logger);
      return 0;
    case 'demo':
      await runDemo(config, logger, print);
      print('');
      print(
        'The stack is still running: `npm run infra:status` shows it, `npm run infra:down` stops it.',
      );
      return 0;
    default:
      process.stderr.write(`tidemark: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

/** `tidemark load ...` until its duration ends or Ctrl-C, which stops it with its report. */
async function runLoadCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${LOAD_USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  const source = createDatabase(config.source);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await loadCommand(argv, {
      source,
      print: (line) => process.stdout.write(`${line}\n`),
      signal: stop.signal,
    });
    return 0;
  } catch (error) {
    if (error instanceof TidemarkError && error.code === 'BAD_INPUT') {
      process.stderr.write(`tidemark load: ${error.message}\n\n${LOAD_USAGE}\n`);
      return 2;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await source.destroy();
  }
}

/** `tidemark audit|quality ...` against the warehouse; exit 2 for bad input or a day with nothing to show. */
async function runReportCommand(
  name: string,
  usage: string,
  command: typeof auditCommand | typeof qualityCommand,
  argv: string[],
): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  // Reports only read.
  const warehouse = createDatabase(loadConfig().warehouseReader, 2);
  try {
    return await command(argv, { warehouse, print: (line) => process.stdout.write(`${line}\n`) });
  } catch (error) {
    if (error instanceof TidemarkError && error.code === 'BAD_INPUT') {
      process.stderr.write(`tidemark ${name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await warehouse.destroy();
  }
}

/** A command that talks to Temporal: usage on --help or no arguments, bad input exits 2. */
async function runTemporalCommand(
  name: string,
  usage: string,
  argv: string[],
  run: (deps: {
    client: Client;
    config: Config;
    taskQueue: string;
    print: (line: string) => void;
  }) => Promise<number>,
): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, fields: { service: `tidemark-${name}` } });
  installTemporalRuntime(logger);
  const client = await createTemporalClient(config);
  try {
    return await run({
      client,
      config,
      taskQueue: config.temporal.taskQueue,
      print: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    if (error instanceof TidemarkError && error.code === 'BAD_INPUT') {
      process.stderr.write(`tidemark ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await client.connection.close();
  }
}

/** `tidemark dlq list|replay ...` against the warehouse and, to re-inject, Kafka. */
async function runDlqCommand(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${DLQ_USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, fields: { service: 'tidemark-dlq' } });
  // Listing only reads; a replay marks the dead letters it re-injects (ops, the stream's schema)
  // and writes the change topics as the operator, like any re-injection of data.
  const warehouse = createDatabase(
    argv[0] === 'replay' ? config.warehouseStream : config.warehouseReader,
  );
  try {
    const { changeTopics } = await shopStreamTopology(config);
    return await dlqCommand(argv, {
      warehouse,
      kafka: createKafka(config, 'tidemark-dlq', logger),
      print: (line) => process.stdout.write(`${line}\n`),
      tableOfTopic: new Map([...changeTopics].map(([table, topic]) => [topic, table])),
      plausibleTimes: {
        earliestMs: config.stream.plausibleFromMs,
        aheadMs: config.stream.plausibleAheadMs,
      },
    });
  } catch (error) {
    if (error instanceof TidemarkError && error.code === 'BAD_INPUT') {
      process.stderr.write(`tidemark dlq: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await warehouse.destroy();
  }
}

/** `tidemark stream gaps|reset ...` against the warehouse and the pipeline's consumer group. */
async function runStreamAdminCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${STREAM_USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  let args;
  try {
    args = parseStreamArgs(argv, config.stream.pipeline);
  } catch (error) {
    if (error instanceof TidemarkError && error.code === 'BAD_INPUT') {
      process.stderr.write(`tidemark ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, fields: { service: 'tidemark-stream' } });
  // Gaps are a report; a reset deletes the pipeline's state, the stream's own tables.
  const warehouse = createDatabase(
    args.action === 'reset' ? config.warehouseStream : config.warehouseReader,
    2,
  );
  try {
    return await streamAdminCommand(args, {
      warehouse,
      kafka: createKafka(config, 'tidemark-stream-admin', logger),
      print: (line) => process.stdout.write(`${line}\n`),
    });
  } finally {
    await warehouse.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof TidemarkError) {
      process.stderr.write(`tidemark: ${error.message}\n`);
      if (error.cause instanceof Error) process.stderr.write(`  cause: ${error.cause.message}\n`);
    } else {
      process.stderr.write(
        `tidemark: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  },
);
