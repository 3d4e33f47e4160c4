import { z } from 'zod';

/**
 * The shape of a metric definition: declarative data only, executed incrementally by the stream
 * and as SQL by the batch layer. Semantic checks against the source contract are in validate.ts.
 */

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const identifier = z
  .string()
  .regex(IDENTIFIER, 'lower snake_case: a letter, then letters, digits or _');
const durationMs = z.int().positive();

export const FILTER_OPERATORS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'gt',
  'gte',
  'lt',
  'lte',
  'is_null',
  'is_not_null',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** One condition on a field of the source row; a filter is their conjunction. */
export const conditionSchema = z.discriminatedUnion('op', [
  z.strictObject({
    field: identifier,
    op: z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte']),
    value: scalar,
  }),
  z.strictObject({
    field: identifier,
    op: z.enum(['in', 'not_in']),
    value: z.array(scalar).min(1),
  }),
  z.strictObject({ field: identifier, op: z.enum(['is_null', 'is_not_null']) }),
]);
export type Condition = z.infer<typeof conditionSchema>;

export const AGGREGATE_FUNCTIONS = ['count', 'sum', 'min', 'max', 'avg', 'count_distinct'] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

/** What is aggregated: a field, or an indicator (1 when the condition holds, else 0) for rates. */
export const measureSchema = z.union([
  z.strictObject({ field: identifier }),
  z.strictObject({ indicator: conditionSchema }),
]);
export type Measure = z.infer<typeof measureSchema>;

export const aggregateSchema = z.discriminatedUnion('fn', [
  z.strictObject({ fn: z.literal('count') }),
  z.strictObject({ fn: z.enum(['sum', 'min', 'max', 'avg', 'count_distinct']), of: measureSchema }),
]);
export type Aggregate = z.infer<typeof aggregateSchema>;

export const windowSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tumbling'), sizeMs: durationMs }),
  z.strictObject({ kind: z.literal('hopping'), sizeMs: durationMs, slideMs: durationMs }),
  z.strictObject({ kind: z.literal('session'), gapMs: durationMs }),
]);
export type WindowSpec = z.infer<typeof windowSchema>;

export const emitPolicySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('on_update') }),
  z.strictObject({ kind: z.literal('every'), intervalMs: durationMs }),
  z.strictObject({ kind: z.literal('on_window_close') }),
]);
export type EmitPolicy = z.infer<typeof emitPolicySchema>;

export const metricDefinitionSchema = z.strictObject({
  name: identifier,
  description: z.string().min(1),
  owner: z.string().min(1),
  source: z.strictObject({
    table: z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'schema.table'),
    contractVersion: z.int().positive(),
  }),
  eventTimeField: identifier,
  keys: z.array(identifier),
  aggregate: aggregateSchema,
  filter: z.array(conditionSchema).default([]),
  window: windowSchema,
  outOfOrdernessMs: z.int().nonnegative(),
  allowedLatenessMs: z.int().nonnegative(),
  emit: emitPolicySchema,
});

export type MetricDefinitionInput = z.input<typeof metricDefinitionSchema>;
export type MetricDefinition = z.output<typeof metricDefinitionSchema>;
