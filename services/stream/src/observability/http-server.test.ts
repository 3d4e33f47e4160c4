import { createServer } from 'node:net';
import { silentLogger } from '@tidemark/runtime';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startObservabilityServer, type ObservabilityServer } from './http-server';
import { createStreamMetrics } from './stream-metrics';

describe('startObservabilityServer', () => {
  let server: ObservabilityServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(ready: () => boolean, registry = new Registry()) {
    server = await startObservabilityServer({ port: 0, registry, ready, logger: silentLogger });
    const base = `http://127.0.0.1:${server.port}`;
    return (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);
  }

  it('listens on the free port it picked', async () => {
    await start(() => true);
    expect(server?.port).toBeGreaterThan(0);
  });

  it('serves the registry in the Prometheus text format on /metrics', async () => {
    const metrics = createStreamMetrics(new Registry(), { pipeline: 'provisional' });
    metrics.observeWatermarks(new Map([['orders_per_minute', 9_000]]), 10_000);
    const get = await start(() => true, metrics.registry);

    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await response.text();
    expect(body).toContain('# TYPE tidemark_stream_watermark_delay_seconds gauge');
    expect(body).toContain(
      'tidemark_stream_watermark_delay_seconds{pipeline="provisional",metric="orders_per_minute"} 1',
    );
  });

  it('answers /healthz with ok whatever the readiness', async () => {
    const get = await start(() => false);
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
  });

  it('answers /readyz with 200 while ready and 503 while not', async () => {
    let ready = false;
    const get = await start(() => ready);

    const before = await get('/readyz');
    expect(before.status).toBe(503);
    expect(await before.text()).toBe('not ready\n');

    ready = true;
    const after = await get('/readyz');
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('ready\n');
  });

  it('treats a readiness check that throws as not ready', async () => {
    const get = await start(() => {
      throw new Error('warehouse pool closed');
    });
    expect((await get('/readyz')).status).toBe(503);
  });

  it('ignores the query string and answers 404 for other paths', async () => {
    const get = await start(() => true);
    expect((await get('/healthz?verbose=1')).status).toBe(200);
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    await missing.text();
    expect((await get('/')).status).toBe(404);
  });

  it('refuses methods other than GET and HEAD on its paths', async () => {
    const get = await start(() => true);
    const post = await get('/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/healthz', { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('closes cleanly, after serving keep-alive requests, and frees its port', async () => {
    const get = await start(() => true);
    await (await get('/healthz')).text();
    const { port } = server as ObservabilityServer;
    await server?.close();
    server = undefined;

    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('rejects when the port is taken, naming the port and the setting that chose it', async () => {
    await start(() => true);
    const port = (server as ObservabilityServer).port;
    await expect(
      startObservabilityServer({
        port,
        registry: new Registry(),
        ready: () => true,
        logger: silentLogger,
        portSetting: 'TIDEMARK_WORKER_METRICS_PORT',
      }),
    ).rejects.toThrow(
      `port ${port} on 127.0.0.1 is taken (EADDRINUSE), by another process of this host perhaps: ` +
        'set TIDEMARK_WORKER_METRICS_PORT to a free port, or 0 for any',
    );
  });
});
