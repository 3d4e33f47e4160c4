import { DefaultLogger, Runtime, type LogLevel as TemporalLogLevel } from '@temporalio/worker';
import type { Logger } from '@tidemark/runtime';

let installed = false;

/**
 * Routes the Temporal SDK's own logs (warnings and errors only) through our structured logger.
 * The SDK allows one runtime per process, so only the first call has an effect.
 */
export function installTemporalRuntime(logger: Logger): void {
  if (installed) return;
  installed = true;
  const levels: Record<TemporalLogLevel, 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'debug',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      logger[levels[entry.level]](`temporal: ${entry.message}`, entry.meta ?? {});
    }),
  });
}
