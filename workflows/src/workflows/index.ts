// The workflow bundle's entry point: every workflow the tidemark worker runs.
export { traceChangeWorkflow } from './trace-change';
export type { TraceChangeInput } from './trace-change';
