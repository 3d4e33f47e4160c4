import { describe, expect, it } from 'vitest';
import { profileBatches, ratesPerInterval, type BatchSample } from './batch-profile';
import { cpuPerChangeOf } from './process-cpu';
import {
  buildResult,
  renderProfile,
  renderResult,
  type BenchMeasurements,
  type MachineInfo,
} from './report';
import { distributionOf } from './stats';

const machine: MachineInfo = {
  cpus: 2,
  cpuModel: 'Test CPU',
  memoryGb: 8,
  node: 'v20.19.0',
  platform: 'linux',
  release: '6.1',
};

function batch(messages: number, sinkMs: number, topic = 'tidemark.shop.orders'): BatchSample {
  return {
    topic,
    partition: 0,
    messages,
    applied: messages,
    windows: 3,
    sinkMs,
    pausedMs: 0,
    seenAtMs: 0,
  };
}

function measurements(pipelineEps: number, latenciesMs: number[]): BenchMeasurements {
  const profile = profileBatches([batch(500, 50), batch(300, 30)], 100);
  return {
    messages: 100_000,
    raw: {
      messages: 100_000,
      bytes: 90_000_000,
      elapsedMs: 2_000,
      eps: 50_000,
      startupMs: 900,
      passesEps: [48_000, 50_000, 61_000],
      cpuPerChange: cpuPerChangeOf(
        {
          pipeline: 800,
          postgresql: 0,
          'kafka broker': 400,
          'kafka connect': 0,
          temporal: 0,
          kernel: 0,
          other: 0,
        },
        100_000,
        2,
      ),
    },
    pipeline: {
      messages: 100_000,
      elapsedMs: 100_000_000 / pipelineEps,
      eps: pipelineEps,
      completed: true,
      joinedToDoneMs: 5_500,
      profile,
      sql: {
        sampleMs: 20,
        ticks: 100,
        inTransactionShare: 0.9,
        inPostgres: [
          { statement: 'insert raw.change_events', share: 0.3 },
          { statement: 'select stream.row_versions', share: 0.2 },
        ],
        inClient: [{ statement: 'select stream.session_state', share: 0.4 }],
      },
      cpuPerChange: cpuPerChangeOf(
        {
          pipeline: 8_000,
          postgresql: 9_000,
          'kafka broker': 1_000,
          'kafka connect': 0,
          temporal: 500,
          kernel: 500,
          other: 1_000,
        },
        100_000,
        2,
      ),
      walPerChange: { records: 21.5, fullPageImages: 0.012, bytes: 2_830 },
    },
    load: {
      targetRatePerSec: 5_000,
      achievedRatePerSec: 4_990,
      operations: 149_700,
      changes: 155_000,
      durationMs: 30_000,
      pipelineCaughtUp: true,
    },
    scaleOut: {
      consumers: 2,
      messages: 120_000,
      elapsedMs: 8_000,
      eps: 15_000,
      completed: true,
      lockWaits: { samples: 12, byEvent: { transactionid: 10, extend: 2 }, ticks: 400 },
      cpuPerChange: cpuPerChange(120),
    },
    latencyMs: distributionOf(latenciesMs),
    commitLatencyMs: distributionOf(latenciesMs.map((ms) => ms / 2)),
    latencyProfile: profile,
    latencySql: null,
    range: {
      operations: 150_000,
      achievedRatePerSec: 12_000,
      changes: 155_000,
      deliveredMs: 20_000,
      changesPerSec: 7_750,
      startedAtMs: 1_796_000_000_000,
      endedAtMs: 1_796_000_012_500,
      start: { 'tidemark.shop.orders/0': '100' },
      end: { 'tidemark.shop.orders/0': '155099' },
    },
  };
}

/** Every process's CPU at a total of `totalUs` per change over 100,000 changes. */
function cpuPerChange(totalUs: number) {
  const ms = (share: number) => (totalUs * share * 100_000) / 1_000;
  return cpuPerChangeOf(
    {
      pipeline: ms(0.5),
      postgresql: ms(0.5),
      'kafka broker': 0,
      'kafka connect': 0,
      temporal: 0,
      kernel: 0,
      other: 0,
    },
    100_000,
    2,
  );
}

describe('profileBatches', () => {
  it('shows batch sizes, sink time per batch and the sink share of the wall time', () => {
    const profile = profileBatches(
      [batch(500, 50), batch(300, 30), batch(200, 20, 'tidemark.shop.payments')],
      200,
    );
    expect(profile.batches).toBe(3);
    expect(profile.messages).toBe(1_000);
    expect(profile.batchSize.p50).toBe(300);
    expect(profile.sinkMs.max).toBe(50);
    expect(profile.sinkShare).toBe(0.5);
    expect(profile.sinkMsPer1000Messages).toBe(100);
    expect(profile.byTopic).toEqual({ 'tidemark.shop.orders': 800, 'tidemark.shop.payments': 200 });
  });
});

describe('renderProfile', () => {
  it('says how busy the whole machine was, when measured', () => {
    const measured = profileBatches([batch(500, 50)], 100, 0.6, 0.834);
    expect(renderProfile('throughput', measured)).toContain(
      'pipeline process CPU 60 % of one core; machine CPU 83 % busy',
    );
    expect(renderProfile('throughput', profileBatches([batch(500, 50)], 100))).not.toContain(
      'machine CPU',
    );
  });
});

describe('ratesPerInterval', () => {
  it('buckets messages by commit time from the first batch start', () => {
    const at = (seenAtMs: number, messages: number) => ({ ...batch(messages, 100), seenAtMs });
    // The second interval ends at the last commit, 1 s into it.
    expect(ratesPerInterval([at(1_100, 500), at(4_000, 500), at(7_000, 1_000)], 5_000)).toEqual([
      200, 1_000,
    ]);
    expect(ratesPerInterval([], 5_000)).toEqual([]);
  });
});

describe('buildResult', () => {
  it('writes the keys the README cites and judges every target', () => {
    const measured = measurements(40_000, [100, 200, 300, 400, 900]);
    measured.pipeline.cpuPerChange = cpuPerChange(60);
    const result = buildResult(
      measured,
      machine,
      { rangeOperations: 150_000 },
      new Date('2026-01-02T03:04:05Z'),
    );
    expect(result).toMatchObject({
      timestamp: '2026-01-02T03:04:05.000Z',
      raw_consume_eps: 50_000,
      pipeline_eps: 40_000,
      ratio: 0.8,
      cpu_us_per_change: { total: 60, by_process: { pipeline: 30, postgresql: 30 } },
      load_rate: 4_990,
      e2e_latency_ms: { p50: 300, p95: 900, p99: 900 },
      machine: { cpus: 2, node: 'v20.19.0' },
      details: {
        range: {
          start: { 'tidemark.shop.orders/0': '100' },
          end: { 'tidemark.shop.orders/0': '155099' },
        },
      },
    });
    expect(result.targets.pipeline_eps.met).toBe(true);
    expect(result.targets.cpu_us_per_change).toEqual({ target: '<= 70', actual: 60, met: true });
    expect(result.scale_out).toEqual({
      consumers: 2,
      eps: 15_000,
      lock_waits: 12,
      lock_waits_by_event: { transactionid: 10, extend: 2 },
      cpu_us_per_change: { total: 120, by_process: expect.objectContaining({ pipeline: 60 }) },
    });
    expect(result.targets.scale_out_lock_waits).toEqual({ target: '0', actual: 12, met: false });
    expect(result.targets.e2e_latency_p95_ms.met).toBe(true);
  });

  it('marks missed targets, and a run without latency samples as not met', () => {
    const result = buildResult(measurements(5_000, []), machine, {}, new Date());
    expect(result.targets.pipeline_eps).toEqual({ target: '>= 25000', actual: 5_000, met: false });
    expect(result.targets.cpu_us_per_change).toEqual({ target: '<= 70', actual: 200, met: false });
    expect(result.targets.e2e_latency_p95_ms.met).toBe(false);
    expect(JSON.parse(JSON.stringify(result)).e2e_latency_ms.p95).toBeNull();
  });
});

describe('renderResult', () => {
  it('prints each measurement with its target and status', () => {
    const text = renderResult(
      buildResult(measurements(5_000, [100, 1_500]), machine, {}, new Date()),
    );
    expect(text).toMatch(/raw kafkajs consume \(ceiling, median of 3\)\s+50,000 eps/);
    expect(text).toMatch(/pipeline sustained\s+5,000 eps\s+>= 25,000 eps\s+NOT met/);
    expect(text).toMatch(/CPU per change, every process\s+200 µs\s+<= 70 µs\s+NOT met/);
    expect(text).toMatch(/pipeline \/ raw \(reference\)\s+10\.0 %\s*\n/);
    expect(text).toMatch(/pipeline, 2 consumer processes\s+15,000 eps/);
    expect(text).toMatch(/lock waits, 2 consumer processes\s+12\s+0\s+NOT met/);
    expect(text).toContain(
      'scale-out : 2 consumer processes, 120,000 msgs once both held partitions, in 8,000 ms; ' +
        'backends waiting on a lock in 12 of 400 samples (transactionid 10, extend 2)',
    );
    expect(text).toMatch(/e2e latency p95\s+1,500 ms\s+< 1,000 ms\s+NOT met/);
    expect(text).toMatch(/of which to batch commit, p50\/p95\s+\d[\d,]*\/750 ms/);
    expect(text).toMatch(/load rate \(latency phase\)\s+4,990 ops\/s/);
    expect(text).toContain('2 CPUs (Test CPU)');
    expect(text).toContain(
      'PostgreSQL executing (50 %): insert raw.change_events 30 %, select stream.row_versions 20 %',
    );
    expect(text).toContain(
      'client mid-transaction (40 %), after: select stream.session_state 40 %',
    );
    expect(text).toContain(
      'CPU per change, raw kafkajs (µs, every process): pipeline 8, kafka broker 4; total 12, ' +
        'so 2 cores at this cost would be full at 166,667 eps',
    );
    expect(text).toContain(
      'CPU per change, pipeline    (µs, every process): pipeline 80, postgresql 90, ' +
        'kafka broker 10, temporal 5, kernel 5, other 10; total 200, so 2 cores at this cost ' +
        'would be full at 10,000 eps',
    );
    expect(text).toContain(
      'WAL per change, pipeline (the PostgreSQL server): 21.5 records, 2,830 bytes, ' +
        '0.012 full-page images',
    );
  });

  it('keeps the WAL per change in the results, and leaves it out where unread', () => {
    const measured = measurements(5_000, [100]);
    expect(buildResult(measured, machine, {}, new Date()).wal_per_change).toEqual({
      records: 21.5,
      full_page_images: 0.012,
      bytes: 2_830,
    });
    measured.pipeline.walPerChange = null;
    const unread = buildResult(measured, machine, {}, new Date());
    expect(unread.wal_per_change).toBeNull();
    expect(renderResult(unread)).not.toContain('WAL per change');
  });
});
