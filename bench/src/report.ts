import type { BatchProfile } from './batch-profile';
import { PROCESS_GROUPS, type CpuPerChange } from './process-cpu';
import type { ScaleOutMeasurement } from './scale-out';
import type { SqlProfile, StatementShare } from './sql-profile';
import type { Distribution } from './stats';
import type { WalPerChange } from './wal-meter';

/**
 * The targets of issue 12 ("Performance"): ahead of Flink SQL doing the same work on this machine
 * (19,691 eps), at no more than 70 µs of CPU per change across every process. The raw consumer's
 * rate stays in the results as the ceiling a consumer that lands nothing reaches, not a target.
 */
export const TARGETS = {
  pipelineEps: 25_000,
  cpuUsPerChange: 70,
  p95LatencyMs: 1_000,
} as const;

/** What one bench run measured, before it is judged against the targets. */
export interface BenchMeasurements {
  /** Messages in the prepared range (end marks minus start marks over every partition). */
  messages: number;
  /** The median of the raw consumer's passes over the range, and every pass's rate. */
  raw: {
    messages: number;
    bytes: number;
    elapsedMs: number;
    eps: number;
    startupMs: number;
    passesEps: number[];
    /** The median pass's CPU per message, every process on the machine; null where unread. */
    cpuPerChange: CpuPerChange | null;
  };
  pipeline: {
    messages: number;
    elapsedMs: number;
    eps: number;
    /** False when the pipeline did not reach the end marks in time: the rate is partial. */
    completed: boolean;
    /** Including the start-up: from having joined its group to the end of the range. */
    joinedToDoneMs: number;
    profile: BatchProfile;
    /** pg_stat_activity sampled every `sampleMs` meanwhile; null when not sampled. */
    sql: (SqlProfile & { sampleMs: number }) | null;
    /**
     * CPU per change of every process on the machine (from joining to done), by group; null
     * where /proc cannot be read.
     */
    cpuPerChange: CpuPerChange | null;
    /** WAL the PostgreSQL server wrote meanwhile, per change; null where unread. */
    walPerChange: WalPerChange | null;
  };
  load: {
    targetRatePerSec: number;
    /** Committed source operations per second. */
    achievedRatePerSec: number;
    operations: number;
    changes: number;
    durationMs: number;
    /** False when the pipeline had not applied the whole load in time: latencies are partial. */
    pipelineCaughtUp: boolean;
  };
  /** The same range read by one pipeline run by two consumer processes. */
  scaleOut: ScaleOutMeasurement;
  /** Source commit to the emission making a change visible in the provisional values. */
  latencyMs: Distribution;
  /** The same changes, source commit to their batch's commit (the part before emission). */
  commitLatencyMs: Distribution;
  latencyProfile: BatchProfile;
  /** pg_stat_activity sampled during the latency load; null when not sampled. */
  latencySql: (SqlProfile & { sampleMs: number }) | null;
  range: {
    operations: number;
    achievedRatePerSec: number;
    changes: number;
    /** From the first write to Debezium's last delivered message of the range. */
    deliveredMs: number;
    changesPerSec: number;
    /** When the range's source writes began and ended (epoch ms): its changes' commit times. */
    startedAtMs: number;
    endedAtMs: number;
    /**
     * The range's first and last offsets per partition (`topic/partition`), both included, so
     * that any other consumer can be measured on exactly these messages.
     */
    start: Record<string, string>;
    end: Record<string, string>;
  };
}

/** The machine a run was measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  release: string;
}

export interface TargetOutcome {
  target: string;
  actual: number;
  met: boolean;
}

/** The contents of bench/results/stream.json. */
export interface BenchResult {
  timestamp: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  messages: number;
  raw_consume_eps: number;
  pipeline_eps: number;
  /** Pipeline rate over the raw consumer's: a reference, not a target. */
  ratio: number;
  /** CPU per change of every process while the pipeline read the range; null where unread. */
  cpu_us_per_change: { total: number; by_process: CpuPerChange['byGroupUs'] } | null;
  /**
   * WAL the PostgreSQL server wrote per change meanwhile: the warehouse's work, steadier than
   * CPU time on a machine whose speed drifts; null where unread.
   */
  wal_per_change: { records: number; full_page_images: number; bytes: number } | null;
  /** The same range, one pipeline in two consumer processes: its rate and lock waits. */
  scale_out: {
    consumers: number;
    eps: number;
    lock_waits: number;
    lock_waits_by_event: Record<string, number>;
    cpu_us_per_change: { total: number; by_process: CpuPerChange['byGroupUs'] } | null;
  };
  load_rate: number;
  e2e_latency_ms: { p50: number; p95: number; p99: number; mean: number; max: number };
  targets: {
    pipeline_eps: TargetOutcome;
    cpu_us_per_change: TargetOutcome;
    scale_out_lock_waits: TargetOutcome;
    e2e_latency_p95_ms: TargetOutcome;
  };
  details: {
    raw: BenchMeasurements['raw'];
    pipeline: Omit<
      BenchMeasurements['pipeline'],
      'profile' | 'sql' | 'cpuPerChange' | 'walPerChange'
    >;
    pipeline_batches: BatchProfile;
    pipeline_sql: BenchMeasurements['pipeline']['sql'];
    pipeline_cpu_per_change: CpuPerChange | null;
    scale_out: ScaleOutMeasurement;
    load: BenchMeasurements['load'];
    latency_samples: number;
    /** Source commit to the batch's commit: the latency before emission. */
    batch_commit_latency_ms: { p50: number; p95: number; p99: number };
    latency_batches: BatchProfile;
    latency_sql: BenchMeasurements['latencySql'];
    range: BenchMeasurements['range'];
  };
}

/** Judges a run against the targets and shapes it as the results file. */
export function buildResult(
  measured: BenchMeasurements,
  machine: MachineInfo,
  options: Record<string, unknown>,
  timestamp: Date,
): BenchResult {
  const ratio = measured.raw.eps > 0 ? measured.pipeline.eps / measured.raw.eps : 0;
  const latency = measured.latencyMs;
  const { profile, sql, cpuPerChange, walPerChange, ...pipeline } = measured.pipeline;
  const { scaleOut } = measured;
  return {
    timestamp: timestamp.toISOString(),
    machine,
    options,
    messages: measured.messages,
    raw_consume_eps: Math.round(measured.raw.eps),
    pipeline_eps: Math.round(measured.pipeline.eps),
    ratio: round(ratio, 4),
    cpu_us_per_change: cpuSplit(cpuPerChange),
    wal_per_change: walPerChange
      ? {
          records: walPerChange.records,
          full_page_images: walPerChange.fullPageImages,
          bytes: walPerChange.bytes,
        }
      : null,
    scale_out: {
      consumers: scaleOut.consumers,
      eps: Math.round(scaleOut.eps),
      lock_waits: scaleOut.lockWaits.samples,
      lock_waits_by_event: scaleOut.lockWaits.byEvent,
      cpu_us_per_change: cpuSplit(scaleOut.cpuPerChange),
    },
    load_rate: Math.round(measured.load.achievedRatePerSec),
    e2e_latency_ms: {
      p50: latency.p50,
      p95: latency.p95,
      p99: latency.p99,
      mean: round(latency.mean, 1),
      max: latency.max,
    },
    targets: {
      pipeline_eps: {
        target: `>= ${TARGETS.pipelineEps}`,
        actual: Math.round(measured.pipeline.eps),
        // A partial run is judged on what it did, and says so in details.pipeline.completed.
        met: measured.pipeline.eps >= TARGETS.pipelineEps,
      },
      cpu_us_per_change: {
        target: `<= ${TARGETS.cpuUsPerChange}`,
        actual: cpuPerChange?.totalUs ?? Number.NaN,
        // Unmeasured is not met.
        met: cpuPerChange !== null && cpuPerChange.totalUs <= TARGETS.cpuUsPerChange,
      },
      scale_out_lock_waits: {
        target: '0',
        actual: scaleOut.lockWaits.samples,
        // A run that never had both consumers measured nothing.
        met: scaleOut.completed && scaleOut.lockWaits.samples === 0,
      },
      e2e_latency_p95_ms: {
        target: `< ${TARGETS.p95LatencyMs}`,
        actual: latency.p95,
        // No sample, or a pipeline that never caught up with the load, cannot meet it.
        met:
          latency.count > 0 && measured.load.pipelineCaughtUp && latency.p95 < TARGETS.p95LatencyMs,
      },
    },
    details: {
      raw: measured.raw,
      pipeline,
      pipeline_batches: profile,
      pipeline_sql: sql,
      pipeline_cpu_per_change: cpuPerChange,
      scale_out: scaleOut,
      load: measured.load,
      latency_samples: latency.count,
      batch_commit_latency_ms: {
        p50: measured.commitLatencyMs.p50,
        p95: measured.commitLatencyMs.p95,
        p99: measured.commitLatencyMs.p99,
      },
      latency_batches: measured.latencyProfile,
      latency_sql: measured.latencySql,
      range: measured.range,
    },
  };
}

function cpuSplit(cpu: CpuPerChange | null) {
  return cpu ? { total: cpu.totalUs, by_process: cpu.byGroupUs } : null;
}

const integer = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
const status = (met: boolean) => (met ? 'met' : 'NOT met');

/** The run as a plain-text table: each measurement, its target and whether it was met. */
export function renderResult(result: BenchResult): string {
  const { targets, details } = result;
  const latency = result.e2e_latency_ms;
  const partial = details.pipeline.completed ? '' : ' (partial: timed out)';
  const rows: [string, string, string, string][] = [
    [
      `raw kafkajs consume (ceiling, median of ${details.raw.passesEps.length})`,
      `${integer(result.raw_consume_eps)} eps`,
      '',
      '',
    ],
    [
      `pipeline sustained${partial}`,
      `${integer(result.pipeline_eps)} eps`,
      `>= ${integer(TARGETS.pipelineEps)} eps`,
      status(targets.pipeline_eps.met),
    ],
    [
      'CPU per change, every process',
      result.cpu_us_per_change ? `${integer(result.cpu_us_per_change.total)} µs` : 'n/a',
      `<= ${integer(TARGETS.cpuUsPerChange)} µs`,
      status(targets.cpu_us_per_change.met),
    ],
    ['pipeline / raw (reference)', `${(result.ratio * 100).toFixed(1)} %`, '', ''],
    [
      `pipeline, ${result.scale_out.consumers} consumer processes${details.scale_out.completed ? '' : ' (partial)'}`,
      `${integer(result.scale_out.eps)} eps`,
      '',
      '',
    ],
    [
      `lock waits, ${result.scale_out.consumers} consumer processes`,
      `${integer(result.scale_out.lock_waits)}`,
      '0',
      status(targets.scale_out_lock_waits.met),
    ],
    [
      'load rate (latency phase)',
      `${integer(result.load_rate)} ops/s`,
      `${integer(details.load.targetRatePerSec)} ops/s`,
      '',
    ],
    [
      `e2e latency p50${details.load.pipelineCaughtUp ? '' : ' (partial: never caught up)'}`,
      `${integer(latency.p50)} ms`,
      '',
      '',
    ],
    [
      'e2e latency p95',
      `${integer(latency.p95)} ms`,
      `< ${integer(TARGETS.p95LatencyMs)} ms`,
      status(targets.e2e_latency_p95_ms.met),
    ],
    ['e2e latency p99', `${integer(latency.p99)} ms`, '', ''],
    [
      'of which to batch commit, p50/p95',
      `${integer(details.batch_commit_latency_ms.p50)}/${integer(details.batch_commit_latency_ms.p95)} ms`,
      '',
      '',
    ],
  ];
  const machine = result.machine;
  return [
    renderColumns(['measurement', 'value', 'target', 'status'], rows, [false, true, true, false]),
    '',
    `range: ${integer(result.messages)} messages; raw ${integer(details.raw.messages)} in ${integer(details.raw.elapsedMs)} ms, ` +
      `pipeline ${integer(details.pipeline.messages)} in ${integer(details.pipeline.elapsedMs)} ms; ` +
      `latency over ${integer(details.latency_samples)} applied changes`,
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, node ${machine.node}, ${machine.platform} ${machine.release}`,
    '',
    'where the pipeline time goes:',
    renderProfile('throughput', details.pipeline_batches),
    renderProfile('latency   ', details.latency_batches),
    `  throughput per 5 s: ${details.pipeline_batches.epsPer5s.map(integer).join(', ')} eps`,
    ...(details.raw.cpuPerChange
      ? [renderCpuPerChange('raw kafkajs', details.raw.cpuPerChange, result.machine.cpus)]
      : []),
    ...(details.pipeline_cpu_per_change
      ? [renderCpuPerChange('pipeline   ', details.pipeline_cpu_per_change, result.machine.cpus)]
      : []),
    ...(result.wal_per_change ? [renderWalPerChange(result.wal_per_change)] : []),
    renderScaleOut(details.scale_out),
    ...(details.scale_out.cpuPerChange
      ? [renderCpuPerChange('2 consumers', details.scale_out.cpuPerChange, result.machine.cpus)]
      : []),
    ...(details.pipeline_sql ? renderSqlProfile('throughput', details.pipeline_sql) : []),
    ...(details.latency_sql ? renderSqlProfile('latency', details.latency_sql) : []),
  ].join('\n');
}

/** WAL per change of the throughput phase, in one line. */
export function renderWalPerChange(wal: NonNullable<BenchResult['wal_per_change']>): string {
  return (
    `  WAL per change, pipeline (the PostgreSQL server): ${wal.records} records, ` +
    `${integer(wal.bytes)} bytes, ${wal.full_page_images} full-page images`
  );
}

/** One line about a run of batches: their sizes, how long the sink held each, CPU and pauses. */
export function renderProfile(label: string, profile: BatchProfile): string {
  const cpu =
    profile.processCpuShare === null
      ? ''
      : `; pipeline process CPU ${(profile.processCpuShare * 100).toFixed(0)} % of one core`;
  const busy =
    profile.machineCpuBusy === null
      ? ''
      : `; machine CPU ${(profile.machineCpuBusy * 100).toFixed(0)} % busy (all cores, every process)`;
  const paused =
    profile.pausedMs > 0 ? `; backpressure paused ${integer(profile.pausedMs)} ms` : '';
  return (
    `  ${label}: ${integer(profile.batches)} batches, ${integer(profile.batchSize.mean)} msgs/batch ` +
    `(p50 ${integer(profile.batchSize.p50)}, max ${integer(profile.batchSize.max)}); ` +
    `sink ${integer(profile.sinkMs.mean)} ms/batch (p95 ${integer(profile.sinkMs.p95)}), ` +
    `${profile.sinkMsPer1000Messages.toFixed(1)} ms per 1,000 msgs, ` +
    `${(profile.sinkShare * 100).toFixed(0)} % of wall time in the sink${cpu}${busy}${paused}`
  );
}

/** The scale-out phase: what it measured over, and which locks its transactions waited on. */
export function renderScaleOut(scaleOut: ScaleOutMeasurement): string {
  const { lockWaits } = scaleOut;
  const events = Object.entries(lockWaits.byEvent)
    .sort((a, b) => b[1] - a[1])
    .map(([event, count]) => `${event} ${integer(count)}`)
    .join(', ');
  return (
    `  scale-out : ${scaleOut.consumers} consumer processes, ${integer(scaleOut.messages)} msgs ` +
    `once both held partitions, in ${integer(scaleOut.elapsedMs)} ms; backends waiting on a ` +
    `lock in ${integer(lockWaits.samples)} of ${integer(lockWaits.ticks)} samples` +
    (events ? ` (${events})` : '')
  );
}

/** What a change cost the whole machine's CPU over a range, and the rate that cost caps it at. */
export function renderCpuPerChange(label: string, cpu: CpuPerChange, cores: number): string {
  const groups = PROCESS_GROUPS.filter((group) => cpu.byGroupUs[group] > 0)
    .map((group) => `${group} ${integer(cpu.byGroupUs[group])}`)
    .join(', ');
  return (
    `  CPU per change, ${label} (µs, every process): ${groups}; total ${integer(cpu.totalUs)}, ` +
    `so ${cores} cores at this cost would be full at ${integer(cpu.cpuBoundEps)} eps`
  );
}

/** The statements that took a phase's warehouse time, largest first. */
export function renderSqlProfile(phase: string, sql: SqlProfile & { sampleMs: number }): string[] {
  const percent = (share: number) => `${(share * 100).toFixed(0)} %`;
  const top = (shares: readonly StatementShare[], count: number) =>
    shares
      .slice(0, count)
      .map((entry) => `${entry.statement} ${percent(entry.share)}`)
      .join(', ');
  const sum = (shares: readonly StatementShare[]) =>
    shares.reduce((total, entry) => total + entry.share, 0);
  return [
    `  warehouse, ${phase} phase (pg_stat_activity every ${sql.sampleMs} ms, ${integer(sql.ticks)} samples): ` +
      `a transaction open ${percent(sql.inTransactionShare)} of the time`,
    `    PostgreSQL executing (${percent(sum(sql.inPostgres))}): ${top(sql.inPostgres, 7)}`,
    `    client mid-transaction (${percent(sum(sql.inClient))}), after: ${top(sql.inClient, 5)}`,
  ];
}

function renderColumns(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  alignRight: readonly boolean[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, column) =>
        alignRight[column]
          ? value.padStart(widths[column] ?? 0)
          : value.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...rows.map(line),
  ].join('\n');
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
