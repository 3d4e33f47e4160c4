// PostgreSQL's codes for a transaction aborted by a deadlock or a serialization conflict: the
// transaction did nothing, so running it again is safe.
const RETRIABLE_CODES = new Set(['40P01', '40001']);

/** Whether an error from PostgreSQL means "run the whole transaction again". */
export function isRetriableConflict(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    RETRIABLE_CODES.has(String((error as { code?: unknown }).code))
  );
}

/**
 * Runs a transaction, running it again (with exponential backoff and jitter) when PostgreSQL
 * aborted it for a deadlock or a serialization conflict, as consumers of one group sharing
 * provisional rows may cause. Any other error is thrown at once.
 */
export async function withConflictRetry<T>(
  run: () => Promise<T>,
  options: { attempts?: number; baseDelayMs?: number; onRetry?: (error: unknown) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 25;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      if (!isRetriableConflict(error) || attempt >= attempts) throw error;
      options.onRetry?.(error);
      const delayMs = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
