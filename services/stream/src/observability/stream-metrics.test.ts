import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { BatchStats } from '../pipeline-options';
import { createStreamMetrics } from './stream-metrics';

const ORDERS = 'tidemark.shop.orders';

function batch(overrides: Partial<BatchStats> = {}): BatchStats {
  return {
    topic: ORDERS,
    partition: 2,
    messages: 7,
    applied: 5,
    duplicates: 1,
    late: 1,
    deadLettered: 1,
    windows: 3,
    sinkMs: 40,
    pausedMs: 0,
    lagMessages: 12,
    ...overrides,
  };
}

/** The sample lines of `metrics()` text, without HELP and TYPE comments. */
async function samples(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line && !line.startsWith('#'));
}

describe('createStreamMetrics', () => {
  it('observeBatch sets lag, counts outcomes and records sink time and batch size', async () => {
    const metrics = createStreamMetrics(new Registry(), { pipeline: 'provisional' });
    metrics.observeBatch(batch());
    metrics.observeBatch(
      batch({ lagMessages: 0, applied: 2, duplicates: 0, late: 0, pausedMs: 1_500 }),
    );
    const lines = await samples(metrics.registry);
    const labels = `pipeline="provisional",topic="${ORDERS}"`;

    expect(lines).toContain(
      `tidemark_stream_consumer_lag_messages{pipeline="provisional",topic="${ORDERS}",partition="2"} 0`,
    );
    expect(lines).toContain(`tidemark_stream_events_applied_total{${labels}} 7`);
    expect(lines).toContain(`tidemark_stream_duplicates_total{${labels}} 1`);
    expect(lines).toContain(`tidemark_stream_late_total{${labels}} 1`);
    expect(lines).toContain(`tidemark_stream_dead_lettered_total{${labels}} 2`);
    expect(lines).toContain(`tidemark_stream_paused_seconds_total{${labels}} 1.5`);
    expect(lines).toContain(`tidemark_stream_sink_duration_seconds_sum{${labels}} 0.08`);
    expect(lines).toContain(`tidemark_stream_sink_duration_seconds_count{${labels}} 2`);
    expect(lines).toContain(`tidemark_stream_sink_duration_seconds_bucket{le="0.025",${labels}} 0`);
    expect(lines).toContain(`tidemark_stream_sink_duration_seconds_bucket{le="0.05",${labels}} 2`);
    expect(lines).toContain(`tidemark_stream_batch_size_messages_sum{${labels}} 14`);
    expect(lines).toContain(`tidemark_stream_batch_size_messages_bucket{le="5",${labels}} 0`);
    expect(lines).toContain(`tidemark_stream_batch_size_messages_bucket{le="10",${labels}} 2`);
  });

  it('observeSessions adds the late session contributions to the late count of their topic', async () => {
    const metrics = createStreamMetrics(new Registry(), { pipeline: 'provisional' });
    metrics.observeBatch(batch({ late: 1 }));
    metrics.observeSessions({
      batches: 2,
      inputs: 40,
      sessions: 30,
      lateByTopic: new Map([[ORDERS, 3]]),
    });
    expect(await samples(metrics.registry)).toContain(
      `tidemark_stream_late_total{pipeline="provisional",topic="${ORDERS}"} 4`,
    );
  });

  it('observeSessionQueue sets the queue depth and the wait of its oldest batch', async () => {
    const metrics = createStreamMetrics(new Registry(), { pipeline: 'provisional' });
    metrics.observeSessionQueue({ batches: 12, oldestWaitMs: 4_500 });
    const lines = await samples(metrics.registry);
    expect(lines).toContain('tidemark_stream_session_queue_batches{pipeline="provisional"} 12');
    expect(lines).toContain(
      'tidemark_stream_session_queue_oldest_wait_seconds{pipeline="provisional"} 4.5',
    );
  });

  it('observeGap counts the messages Kafka deleted before they were read, by partition', async () => {
    const metrics = createStreamMetrics(new Registry(), { pipeline: 'provisional' });
    metrics.observeGap({ topic: ORDERS, partition: 2, missingFrom: 100n, missingUntil: 350n });
    metrics.observeGap({ topic: ORDERS, partition: 2, missingFrom: 900n, missingUntil: 910n });
    const lines = await samples(metrics.registry);
    expect(lines).toContain(
      `tidemark_stream_gap_messages_total{pipeline="provisional",topic="${ORDERS}",partition="2"} 260`,
    );
  });

  it('observeEmitted observes the end-to-end latency of every change made visible, in seconds', async () => {
    const metrics = createStreamMetrics(new Registry(), { pipeline: 'provisional' });
    // 5 ms, 80 ms, 2 s and 45 s after their source commits; one from a source clock running ahead.
    const committedAtMs = [99_995, 99_920, 98_000, 55_000, 100_050];
    metrics.observeEmitted({
      topic: ORDERS,
      partition: 2,
      committedAtMs,
      appliedAtMs: 99_990,
      emittedAtMs: 100_000,
    });
    const lines = await samples(metrics.registry);
    const bucket = (le: string) =>
      `tidemark_stream_end_to_end_latency_seconds_bucket{le="${le}",pipeline="provisional",topic="${ORDERS}"}`;

    expect(lines).toContain(`${bucket('0.01')} 2`);
    expect(lines).toContain(`${bucket('0.1')} 3`);
    expect(lines).toContain(`${bucket('2.5')} 4`);
    expect(lines).toContain(`${bucket('30')} 4`);
    expect(lines).toContain(`${bucket('+Inf')} 5`);
    expect(lines).toContain(
      `tidemark_stream_end_to_end_latency_seconds_count{pipeline="provisional",topic="${ORDERS}"} 5`,
    );
    expect(lines).toContain(
      `tidemark_stream_end_to_end_latency_seconds_sum{pipeline="provisional",topic="${ORDERS}"} 47.085`,
    );
  });

  it('observeWatermarks sets each metric delay and drops metrics without a watermark', async () => {
    const metrics = createStreamMetrics(new Registry(), { pipeline: 'provisional' });
    metrics.observeWatermarks(
      new Map([
        ['orders_per_minute', 58_500],
        ['revenue_per_minute', null],
      ]),
      60_000,
    );
    expect(await samples(metrics.registry)).toEqual(
      expect.arrayContaining([
        'tidemark_stream_watermark_delay_seconds{pipeline="provisional",metric="orders_per_minute"} 1.5',
      ]),
    );
    expect(await metrics.registry.metrics()).not.toContain('revenue_per_minute');

    metrics.observeWatermarks(
      new Map([
        ['orders_per_minute', null],
        ['revenue_per_minute', 57_000],
      ]),
      60_000,
    );
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('orders_per_minute');
    expect(text).toContain(
      'tidemark_stream_watermark_delay_seconds{pipeline="provisional",metric="revenue_per_minute"} 3',
    );
  });

  it('labels series "default" when no pipeline is named and uses a fresh registry by default', async () => {
    const metrics = createStreamMetrics();
    metrics.observeBatch(batch());
    expect(await metrics.registry.metrics()).toContain(
      `tidemark_stream_events_applied_total{pipeline="default",topic="${ORDERS}"} 5`,
    );
    expect(createStreamMetrics().registry).not.toBe(metrics.registry);
  });

  it('lets several pipelines share one registry, each under its own label', async () => {
    const registry = new Registry();
    const first = createStreamMetrics(registry, { pipeline: 'a' });
    const second = createStreamMetrics(registry, { pipeline: 'b' });
    first.observeBatch(batch({ applied: 1 }));
    second.observeBatch(batch({ applied: 4 }));
    const lines = await samples(registry);
    expect(lines).toContain(
      `tidemark_stream_events_applied_total{pipeline="a",topic="${ORDERS}"} 1`,
    );
    expect(lines).toContain(
      `tidemark_stream_events_applied_total{pipeline="b",topic="${ORDERS}"} 4`,
    );
  });

  it('refuses a registry where a stream metric name has another type', () => {
    const registry = new Registry();
    new Counter({
      name: 'tidemark_stream_consumer_lag_messages',
      help: 'not a gauge',
      registers: [registry],
    });
    expect(() => createStreamMetrics(registry)).toThrow(/already registered as another type/);
  });
});
