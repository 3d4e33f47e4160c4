import './warehouse-tables';
export { toDeadLetter, toLandedChange } from './landing';
export type { DeadLetter, LandedChange, MessagePosition } from './landing';
export { writeLandingBatch } from './landing-sink';
export type { LandingResult } from './landing-sink';
export { DEFAULT_MAX_BYTES_PER_PARTITION, startStreamPipeline } from './metrics-pipeline';
export { listStreamGaps } from './gaps';
export { readHeldSessions } from './held-sessions';
export type { HeldSession, HeldSessionFilter } from './held-sessions';
export { changelogCopyChunks, changelogCopyText, copyTimestamp } from './changelog-copy';
export { DEFAULT_PLAUSIBLE_TIMES, eventTimesOf, implausibleTime, LsnHorizon } from './plausibility';
export { contentsFrom, decodeBatch } from './batch-decoding';
export type { BatchDecoding, BatchMessage, DecodedMessage } from './batch-decoding';
export type { PlausibleTimes } from './plausibility';
export type { RecordedGap } from './gaps';
export {
  consumerGroupMembers,
  PIPELINE_STATE,
  pipelineStateCounts,
  resetPipeline,
} from './pipeline-reset';
export type {
  BatchStats,
  EmittedStats,
  PipelineHealth,
  SessionQueueStats,
  SessionStats,
  StreamPipeline,
  StreamPipelineOptions,
} from './pipeline-options';
export { startObservabilityServer } from './observability/http-server';
export type { ObservabilityServer, ObservabilityServerOptions } from './observability/http-server';
export {
  BATCH_SIZE_BUCKETS,
  createStreamMetrics,
  DEFAULT_PIPELINE_LABEL,
  END_TO_END_LATENCY_BUCKETS_SECONDS,
  SINK_DURATION_BUCKETS_SECONDS,
  STREAM_METRIC_PREFIX,
} from './observability/stream-metrics';
export type { StreamMetrics, StreamMetricsOptions } from './observability/stream-metrics';
export { resultOf } from './windowing/accumulator';
export type { Accumulator } from './windowing/accumulator';
export { LATE_REASONS, planBatch } from './windowing/plan';
export type { LateReason } from './windowing/plan';
export { windowsFor } from './windowing/windows';
export type { TimeWindow } from './windowing/windows';
export { listDeadLetters } from './dlq/list';
export type { DeadLetterEntry, DeadLetterQuery } from './dlq/list';
export { REPLAY_SKIP_REASONS, replayDeadLetters } from './dlq/replay';
export type {
  DeadLetterSource,
  ReplayFilter,
  ReplayOptions,
  ReplayReport,
  ReplaySkipReason,
} from './dlq/replay';
export { decideReplay, describeReplayFailure, messageKeyOf, planReplay } from './dlq/replay-plan';
export type {
  DeadLetterIssue,
  DeadLetterRecord,
  ReplayDecision,
  ReplayMessage,
  ReplayValidator,
} from './dlq/replay-plan';
