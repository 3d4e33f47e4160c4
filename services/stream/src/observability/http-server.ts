import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TidemarkError, type Logger } from '@tidemark/runtime';
import type { Registry } from 'prom-client';

export interface ObservabilityServerOptions {
  /** 0 picks a free port; the server reports the one it got. */
  port: number;
  host?: string;
  registry: Registry;
  /** Whether the pipeline can do its work now (joined its group, warehouse reachable). */
  ready: () => boolean;
  logger: Logger;
  /** The setting that chose the port, named when the port is taken (TIDEMARK_METRICS_PORT). */
  portSetting?: string;
}

export interface ObservabilityServer {
  /** The port the server listens on. */
  port: number;
  /** Stops accepting connections and resolves once the open ones have finished. */
  close(): Promise<void>;
}

const TEXT_PLAIN = 'text/plain; charset=utf-8';

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` (the process is up) and `/readyz`
 * (`ready()` holds) over plain HTTP.
 */
export async function startObservabilityServer(
  options: ObservabilityServerOptions,
): Promise<ObservabilityServer> {
  const { registry, ready, logger } = options;
  const host = options.host ?? '127.0.0.1';

  const respond = (
    response: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    headOnly: boolean,
  ) => {
    response.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    response.end(headOnly ? undefined : body);
  };

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
    if (!known) return respond(response, 404, TEXT_PLAIN, 'not found\n', false);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return respond(response, 405, TEXT_PLAIN, 'method not allowed\n', false);
    }
    const headOnly = request.method === 'HEAD';
    if (path === '/healthz') return respond(response, 200, TEXT_PLAIN, 'ok\n', headOnly);
    if (path === '/readyz') {
      return isReady()
        ? respond(response, 200, TEXT_PLAIN, 'ready\n', headOnly)
        : respond(response, 503, TEXT_PLAIN, 'not ready\n', headOnly);
    }
    respond(response, 200, registry.contentType, await registry.metrics(), headOnly);
  }

  const isReady = () => {
    try {
      return ready();
    } catch (error) {
      logger.error('readiness check failed', { error: String(error) });
      return false;
    }
  };

  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      logger.error('observability request failed', { path: request.url, error: String(error) });
      if (!response.headersSent) respond(response, 500, TEXT_PLAIN, 'internal error\n', false);
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new TidemarkError(
              'BAD_INPUT',
              `port ${options.port} on ${host} is taken (EADDRINUSE), by another process of this ` +
                `host perhaps: set ${options.portSetting ?? 'the metrics port'} to a free port, or ` +
                '0 for any',
              { cause: error, context: { port: options.port, host } },
            )
          : error,
      );
    server.once('error', refuse);
    server.listen(options.port, host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  server.on('error', (error) =>
    logger.error('observability server error', { error: String(error) }),
  );
  const { port } = server.address() as AddressInfo;
  logger.info('observability server listening', { host, port });

  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections would otherwise hold close() open until they time out.
        server.closeIdleConnections();
      }),
  };
}
