import type { Client } from '@temporalio/client';
import {
  createDatabase,
  createKafka,
  createLogger,
  loadConfig,
  type Config,
  type Logger,
} from '@tidemark/runtime';
import { createTemporalClient, installTemporalRuntime } from '@tidemark/workflows';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';

/** Where a command writes: its output, its complaints, and (on a terminal) a rewritable line. */
export interface CommandIo {
  print(line: string): void;
  printError(line: string): void;
  /** Rewrites the current terminal line (live progress); absent when stdout is not a terminal. */
  rewrite?: (line: string) => void;
}

/** The database roles a command may connect as (see `docs/security.md`). */
export type DatabaseRole = 'source' | 'warehouse' | 'warehouseStream' | 'warehouseReader';

/**
 * What a command needs from the outside world, opened when first asked for and closed by the
 * runner when the command ends, whatever way it ends. A command never closes what it did not
 * open itself.
 */
export class CommandContext {
  private loadedConfig: Config | undefined;
  private namedLogger: Logger | undefined;
  private temporal: Promise<Client> | undefined;
  private readonly closers: (() => Promise<void> | void)[] = [];

  constructor(
    /** The command's name: `tidemark-<name>` names its logs and its Kafka client. */
    readonly name: string,
    readonly io: CommandIo,
    private readonly loadSettings: () => Config = loadConfig,
  ) {}

  print = (line: string): void => this.io.print(line);

  config(): Config {
    this.loadedConfig ??= this.loadSettings();
    return this.loadedConfig;
  }

  logger(): Logger {
    this.namedLogger ??= createLogger({
      level: this.config().logLevel,
      fields: { service: `tidemark-${this.name}` },
    });
    return this.namedLogger;
  }

  /** A logger of errors only, for output meant for a reader rather than an operator. */
  quietLogger(): Logger {
    return createLogger({ level: 'error', fields: { service: `tidemark-${this.name}` } });
  }

  /** A connection pool as one of the platform's roles, destroyed when the command ends. */
  database(role: DatabaseRole, poolMax?: number): Knex {
    const database = createDatabase(this.config()[role], poolMax);
    this.onClose(() => database.destroy());
    return database;
  }

  kafka(clientId = `tidemark-${this.name}`): Kafka {
    return createKafka(this.config(), clientId, this.logger());
  }

  /**
   * Installs the Temporal SDK's runtime with the command's logger (once per process; `logger`
   * replaces it, e.g. to keep expected warnings out of the demo's output).
   */
  temporalRuntime(logger: Logger = this.logger()): void {
    installTemporalRuntime(logger);
  }

  /** A Temporal client, connected once, closed when the command ends. */
  temporalClient(): Promise<Client> {
    if (this.temporal === undefined) {
      this.temporalRuntime();
      const client = createTemporalClient(this.config());
      this.temporal = client;
      // A client that never connected has nothing to close.
      this.onClose(() =>
        client.then(
          (connected) => connected.connection.close(),
          () => undefined,
        ),
      );
    }
    return this.temporal;
  }

  /** An abort signal raised by the first Ctrl-C or SIGTERM while the command runs. */
  interruption(): AbortSignal {
    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    this.onClose(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
    return interrupt.signal;
  }

  onClose(close: () => Promise<void> | void): void {
    this.closers.push(close);
  }

  /** Closes what was opened, the last first; a failing close does not keep the others open. */
  async close(): Promise<void> {
    const failures: unknown[] = [];
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}
