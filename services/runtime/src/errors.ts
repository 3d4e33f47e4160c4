/** Error codes tidemark raises; each names what went wrong, not where. */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'CONNECT_UNAVAILABLE',
  'CONNECTOR_FAILED',
  'DECODE_FAILED',
  'TIMEOUT',
  'BAD_INPUT',
  'WORKER_UNAVAILABLE',
  'TOPIC_MISSING',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A typed error carrying a code, whether a retry may help, its cause and some context. */
export class TidemarkError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TidemarkError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}
