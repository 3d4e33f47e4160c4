/**
 * A batch the warehouse keeps refusing because of what one of its messages holds (a value a
 * column or a constraint rejects) would be fetched and refused again for ever. The batch is
 * bisected to the first message that makes it fail; that message becomes a dead letter
 * (SINK_REJECTED, with the warehouse's reason) and the rest of the batch goes on.
 */

// SQLSTATE classes that say nothing about the data: the connection, the server's resources or
// state, an operator, a conflict between transactions. Running the batch again is the remedy.
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '55', '57', '58', 'XX']);

/**
 * Whether an error applying a batch may come from the batch's content, so that bisecting it can
 * find the message at fault. Errors of the connection or the server are not: the batch is run
 * again as it is.
 */
export function mayBeContentError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  // Exceptions of the stream's own code that a value it did not expect can cause.
  if (code === undefined) return error instanceof TypeError || error instanceof RangeError;
  // Anything else without a SQLSTATE (ECONNRESET, a pool timeout...) is the connection's.
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return false;
  return !TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

/** The warehouse's reason, one line: its message and SQLSTATE. */
export function describeSinkError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code } = error as { message?: unknown; code?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  return typeof code === 'string' ? `${text} (SQLSTATE ${code})` : text;
}

/**
 * The first message of a batch that makes it fail, found by bisecting on prefixes:
 * `failureOf(n)` applies the batch's first n messages (and rolls back), giving the error or
 * undefined. Prefixes keep each message in the context of those before it, as when the whole
 * batch is applied. Undefined when the whole batch applies now (the failure was passing).
 */
export async function firstRejectedMessage(
  length: number,
  failureOf: (prefixLength: number) => Promise<unknown>,
): Promise<{ index: number; error: unknown } | undefined> {
  const whole = await failureOf(length);
  if (whole === undefined) return undefined;
  // Invariant: the prefix of `failing` messages fails with `error`; the one of `passing` applies.
  let passing = 0;
  let failing = length;
  let error: unknown = whole;
  while (failing - passing > 1) {
    const middle = Math.floor((passing + failing) / 2);
    const failure = await failureOf(middle);
    if (failure === undefined) {
      passing = middle;
    } else {
      failing = middle;
      error = failure;
    }
  }
  // Blame a message only once the warehouse was seen to take what comes before it.
  if (passing === 0 && (await failureOf(0)) !== undefined) return undefined;
  return { index: failing - 1, error };
}

/** How a batch is applied, tried, and relieved of a message the warehouse refuses. */
export interface RejectingApplication<T> {
  /** Messages in the batch. */
  length: number;
  /** Applies the first `count` messages in one transaction, and commits it. */
  apply: (count: number) => Promise<T>;
  /** The same, rolled back: the error, or undefined when the warehouse took them. */
  tryPrefix: (count: number) => Promise<unknown>;
  /** Turns the message at `index` into a dead letter, so the next apply leaves it out. */
  reject: (index: number, error: unknown) => void;
}

/**
 * Applies a batch; while the warehouse refuses it for what a message holds, finds the first such
 * message, rejects it and applies the rest again. An error that blames no message is thrown, for
 * the batch to be read again as it is.
 */
export async function applyRejectingRefused<T>(batch: RejectingApplication<T>): Promise<T> {
  // Each round rejects one message, so at most one round per message.
  for (let round = 0; ; round += 1) {
    try {
      return await batch.apply(batch.length);
    } catch (error) {
      if (round >= batch.length || !mayBeContentError(error)) throw error;
      const rejected = await firstRejectedMessage(batch.length, batch.tryPrefix);
      if (!rejected) throw error;
      if (!mayBeContentError(rejected.error)) throw rejected.error;
      batch.reject(rejected.index, rejected.error);
    }
  }
}
