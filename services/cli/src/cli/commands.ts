import { METRICS } from '@tidemark/contracts';
import { ConnectClient, TidemarkError } from '@tidemark/runtime';
import { parseArgs } from 'node:util';
import { AUDIT_USAGE, auditCommand } from '../commands/audit';
import { BACKFILL_USAGE, backfillCommand } from '../commands/backfill';
import {
  describeConnector,
  registerShopConnector,
  shopConnectorConfig,
  shopStreamTopology,
} from '../commands/connector';
import { requestSnapshot } from '../commands/connector-snapshot';
import { CONSOLIDATE_USAGE, consolidateCommand } from '../commands/consolidate';
import { contractsCommand } from '../commands/contracts';
import { runDemo } from '../commands/demo';
import { DLQ_USAGE, dlqCommand } from '../commands/dlq';
import { LOAD_USAGE, loadCommand } from '../commands/load';
import { migrateAll } from '../commands/migrate';
import { QUALITY_USAGE, qualityCommand } from '../commands/quality';
import { runStream, runWorker } from '../commands/run-services';
import { SCHEDULE_USAGE, scheduleCommand } from '../commands/schedule';
import { VALUES_USAGE, valuesCommand } from '../commands/values';
import { runStackScript } from '../commands/stack';
import { parseStreamArgs, STREAM_USAGE, streamAdminCommand } from '../commands/stream-admin';
import { SHOP_CONNECTOR_NAME } from '../paths';
import { NEW_USAGE } from '../scaffold/usage';
import type { CliCommand } from './command';
import type { CommandContext } from './context';

// Every `tidemark` command, in the order `tidemark --help` lists them. A new command is one entry
// here and a module under commands/ that parses its arguments and does the work with what the
// context gives it; the runner (runner.ts) handles help, bad input and closing resources.

const stackCommand = (action: 'up' | 'status' | 'down', summary: string): CliCommand => ({
  name: action,
  section: 'stack',
  summary,
  run: () => runStackScript(action),
});

function badInput(message: string): TidemarkError {
  return new TidemarkError('BAD_INPUT', message);
}

const CONTRACTS_USAGE = `  contracts check        each contract version against its snapshot and the earlier versions (its mode)
  contracts compat <previous.json> <next.json> --mode BACKWARD [--json]
                         compatibility of two JSON Schemas: exit 0 compatible, 1 not, 2 bad input
  contracts export [--force]
                         write contracts/schemas/<table>/v<N>.json and contracts/CATALOG.md`;

export const COMMANDS: readonly CliCommand[] = [
  stackCommand(
    'up',
    '  up                     install (once) and start PostgreSQL, Kafka, Kafka Connect + Debezium, Temporal',
  ),
  stackCommand(
    'status',
    '  status                 health of each component, the Debezium connector included (exit 1 if one is down)',
  ),
  stackCommand('down', '  down                   stop what `up` started'),
  {
    name: 'migrate',
    section: 'stack',
    summary:
      '  migrate                apply the knex migrations to the source and warehouse databases',
    async run(_argv, context) {
      const applied = await migrateAll(context.config());
      const listed = (names: string[]) => (names.length ? names.join(', ') : 'up to date');
      context.print(`source:    ${listed(applied.source)}`);
      context.print(`warehouse: ${listed(applied.warehouse)}`);
      return 0;
    },
  },
  {
    name: 'connector',
    section: 'stack',
    summary: `  connector register     register (or update) the Debezium connector and wait until it runs
  connector status       the Debezium connector's state
  connector snapshot <schema.table>...
                         re-read captured tables' rows (Debezium incremental snapshot), e.g. rows
                         that were there before the table was captured`,
    needsArguments: true,
    async run([action, ...tables], context) {
      if (action === 'register') {
        const status = await registerShopConnector(context.config(), context.logger());
        context.print(describeConnector(status));
        return 0;
      }
      if (action === 'status') {
        const connect = new ConnectClient(context.config().connect.url);
        const status = await connect.status(SHOP_CONNECTOR_NAME);
        context.print(describeConnector(status));
        return status?.state === 'RUNNING' ? 0 : 1;
      }
      if (action === 'snapshot') {
        const connectorConfig = await shopConnectorConfig(context.config());
        const id = await requestSnapshot(context.database('source', 1), connectorConfig, tables);
        context.print(
          `asked Debezium for an incremental snapshot of ${tables.join(', ')} (signal ${id}): their rows arrive as reads ('r') in chunks, while changes go on streaming`,
        );
        return 0;
      }
      throw badInput(
        `expected "register", "status" or "snapshot", got ${JSON.stringify(action ?? '')}`,
      );
    },
  },
  {
    name: 'contracts',
    section: 'contracts',
    summary: CONTRACTS_USAGE,
    usage: `usage:\n${CONTRACTS_USAGE}`,
    needsArguments: true,
    // Pure file work: no configuration, logger or Temporal runtime.
    async run(argv, context) {
      let parsed;
      try {
        parsed = parseArgs({
          args: argv,
          allowPositionals: true,
          options: {
            mode: { type: 'string' },
            json: { type: 'boolean', default: false },
            force: { type: 'boolean', default: false },
          },
        });
      } catch (error) {
        throw badInput((error as Error).message);
      }
      const [subcommand, ...files] = parsed.positionals;
      return contractsCommand(
        { subcommand, files, ...parsed.values },
        context.print,
        context.io.printError,
      );
    },
  },
  {
    name: 'new',
    section: 'contracts',
    summary: `  new table <schema.table> --columns id:uuid:pk,...,created_at:timestamptz
                         scaffold a captured table: migration, contract v1 and its test, connector, expectations
  new metric <name> --table <schema.table> --aggregate count --window tumbling:1h
                         scaffold a metric of the catalogue, validated against the table's contract
  new contract-version <schema.table> [--add <name:type,...>]
                         scaffold a table's next contract version and its source migration`,
    usage: NEW_USAGE,
    needsArguments: true,
    // File work in the project: no configuration or services.
    // Loaded when run: what it writes files with would slow every other command's start. In a
    // terminal, it asks for what the arguments leave out.
    async run(argv, context) {
      const [{ newCommand }, { terminalAsk }] = await Promise.all([
        import('../commands/new'),
        import('../scaffold/terminal-ask'),
      ]);
      return newCommand(argv, {
        print: context.print,
        ...(process.stdin.isTTY && process.stdout.isTTY ? { ask: terminalAsk } : {}),
      });
    },
  },
  {
    name: 'stream',
    section: 'run',
    summary: `  stream                 provisional metrics from the change topics, with /metrics on
                         TIDEMARK_METRICS_PORT (until Ctrl-C)
  stream gaps [--pipeline <name>] [--json]
                         offsets Kafka deleted before a pipeline read them
  stream reset [--pipeline <name>] [--yes]
                         forget what a stopped pipeline derived, so it starts afresh`,
    usage: STREAM_USAGE,
    async run(argv, context) {
      const config = context.config();
      if (argv.length === 0) return runStream(config, context.logger());
      const args = parseStreamArgs(argv, config.stream.pipeline);
      // Gaps are a report; a reset deletes the pipeline's state, the stream's own tables.
      const role = args.action === 'reset' ? 'warehouseStream' : 'warehouseReader';
      return streamAdminCommand(args, {
        warehouse: context.database(role, 2),
        kafka: context.kafka('tidemark-stream-admin'),
        print: context.print,
      });
    },
  },
  {
    name: 'load',
    section: 'run',
    summary: `  load --rate 5000 --duration 60s [...]
                         write realistic traffic into the source database (tidemark load --help)`,
    usage: LOAD_USAGE,
    // Until its duration ends or Ctrl-C, which stops it with its report.
    async run(argv, context) {
      const signal = context.interruption();
      await loadCommand(argv, { source: context.database('source'), print: context.print, signal });
      return 0;
    },
  },
  {
    name: 'dlq',
    section: 'dead letters',
    summary: `  dlq list [--since 1h] [--code CONTRACT_VIOLATION] [--limit 50] [--all] [--json]
                         messages that failed decoding or their contract, newest first
  dlq replay [--since <time>] [--id <id>]... [--dry-run]
                         re-validate against the current contracts and re-inject those that pass, once`,
    usage: DLQ_USAGE,
    needsArguments: true,
    async run(argv, context) {
      const config = context.config();
      // Listing only reads; a replay marks the dead letters it re-injects (ops, the stream's
      // schema) and writes the change topics as the operator, like any re-injection of data.
      const warehouse = context.database(
        argv[0] === 'replay' ? 'warehouseStream' : 'warehouseReader',
      );
      const { changeTopics } = await shopStreamTopology(config);
      return dlqCommand(argv, {
        warehouse,
        kafka: context.kafka(),
        print: context.print,
        tableOfTopic: new Map([...changeTopics].map(([table, topic]) => [topic, table])),
        plausibleTimes: {
          earliestMs: config.stream.plausibleFromMs,
          aheadMs: config.stream.plausibleAheadMs,
        },
      });
    },
  },
  {
    name: 'worker',
    section: 'batch (Temporal; a worker must run)',
    summary: `  worker                 run the Temporal worker, with /metrics on TIDEMARK_WORKER_METRICS_PORT
                         (replication slot, final days; until Ctrl-C)`,
    async run(_argv, context) {
      context.temporalRuntime();
      await runWorker(context.config(), context.logger());
      return 0;
    },
  },
  {
    name: 'consolidate',
    section: 'batch (Temporal; a worker must run)',
    summary: `  consolidate --date <yyyy-mm-dd|yesterday> [--metric <name>]... [--as-of now]
                         consolidate a day into final values now: gate, publish, reconcile`,
    usage: CONSOLIDATE_USAGE,
    needsArguments: true,
    async run(argv, context) {
      return consolidateCommand(argv, await temporalDependencies(context));
    },
  },
  {
    name: 'backfill',
    section: 'batch (Temporal; a worker must run)',
    summary: `  backfill --metric <name|all> --from <day> --to <day> [--concurrency 4] [--reason <text>]
                         recompute a range of days, one child workflow per day, live progress
  backfill status|pause|resume|cancel <id>, backfill list`,
    usage: BACKFILL_USAGE,
    needsArguments: true,
    async run(argv, context) {
      const dependencies = await temporalDependencies(context);
      return backfillCommand(argv, { ...dependencies, rewrite: context.io.rewrite });
    },
  },
  {
    name: 'schedule',
    section: 'batch (Temporal; a worker must run)',
    summary: `  schedule apply|status|trigger
                         the nightly consolidation's Temporal Schedule (TIDEMARK_NIGHTLY_*)`,
    usage: SCHEDULE_USAGE,
    needsArguments: true,
    async run(argv, context) {
      return scheduleCommand(argv, await temporalDependencies(context));
    },
  },
  {
    name: 'values',
    section: 'reports',
    summary: `  values --metric <name> [--since 1h] [--key EUR] [--final] [--watch]
                         a metric's provisional (or final) values as a table, refreshed with --watch`,
    usage: VALUES_USAGE,
    needsArguments: true,
    run: (argv, context) =>
      valuesCommand(argv, {
        warehouse: context.database('warehouseReader', 2),
        metrics: METRICS,
        pipeline: context.config().stream.pipeline,
        print: context.print,
        clear: context.io.rewrite ? () => context.print('\x1b[2J\x1b[H') : undefined,
        signal: context.interruption(),
      }),
  },
  {
    name: 'audit',
    section: 'reports',
    summary: `  audit --date <yyyy-mm-dd|latest> [--metric NAME] [--format table|json|html] [--out FILE]
                         a day's reconciliation of provisional against final values (html: report with charts)`,
    usage: AUDIT_USAGE,
    needsArguments: true,
    // Reports only read.
    run: (argv, context) =>
      auditCommand(argv, {
        warehouse: context.database('warehouseReader', 2),
        print: context.print,
      }),
  },
  {
    name: 'quality',
    section: 'reports',
    summary: `  quality --date <yyyy-mm-dd|latest> [--json]
                         the day's quality gate results: exit 0 passed, 1 blocked publication, 2 bad input`,
    usage: QUALITY_USAGE,
    needsArguments: true,
    run: (argv, context) =>
      qualityCommand(argv, {
        warehouse: context.database('warehouseReader', 2),
        print: context.print,
      }),
  },
  {
    name: 'demo',
    section: 'walk-through',
    summary:
      '  demo                   the end-to-end walk: orders -> Debezium -> Kafka -> warehouse -> workflow',
    async run(_argv, context) {
      const config = context.config();
      // The demo shows a blocked publication on purpose: the SDK's warning about it would be noise.
      context.temporalRuntime(context.quietLogger());
      await runDemo(config, context.logger(), context.print);
      context.print('');
      context.print(
        'The stack is still running: `npm run infra:status` shows it, `npm run infra:down` stops it.',
      );
      return 0;
    },
  },
];

/** What the commands that start or query workflows need. */
async function temporalDependencies(context: CommandContext) {
  const config = context.config();
  return {
    client: await context.temporalClient(),
    config,
    taskQueue: config.temporal.taskQueue,
    defaultPipeline: config.stream.pipeline,
    print: context.print,
  };
}
