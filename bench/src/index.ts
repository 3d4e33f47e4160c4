export { profileBatches } from './batch-profile';
export type { BatchProfile, BatchSample } from './batch-profile';
export { DEFAULT_BENCH_OPTIONS, parseBenchArgs, parseDurationMs } from './options';
export type { BenchOptions } from './options';
export { buildResult, renderResult, TARGETS } from './report';
export type { BenchMeasurements, BenchResult, MachineInfo } from './report';
export { distributionOf, percentile, ratePerSec } from './stats';
export type { Distribution } from './stats';
