import { TidemarkError } from './errors';

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`.
 * A probe that throws a non-retriable TidemarkError ends the wait at once.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof TidemarkError && !error.retriable) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new TidemarkError(
        'TIMEOUT',
        `timed out after ${options.timeoutMs} ms waiting for ${what}`,
        {
          retriable: true,
          cause: lastError,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}

/** Resolves as `promise` does, or fails with a TIMEOUT error naming `what` after `timeoutMs`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new TidemarkError('TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
