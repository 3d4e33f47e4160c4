import { z } from 'zod';
import type { EventContract } from '../events/contract';
import {
  metricDefinitionSchema,
  type Condition,
  type MetricDefinition,
  type MetricDefinitionInput,
} from './definition';

/** One thing wrong with a metric definition, at a path such as `aggregate.of.field`. */
export interface MetricProblem {
  path: string;
  message: string;
}

/** A metric definition that failed validation, with every problem listed. */
export class MetricDefinitionError extends Error {
  constructor(
    readonly metric: string,
    readonly problems: readonly MetricProblem[],
  ) {
    super(
      `metric ${metric}: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`,
    );
    this.name = 'MetricDefinitionError';
  }
}

type FieldKind = 'numeric' | 'text' | 'boolean' | 'other';

/** The kinds of value a contract field may hold, read from the JSON Schema of its input side. */
function fieldKinds(contract: EventContract): Map<string, Set<FieldKind>> {
  const schema = z.toJSONSchema(contract.row, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
  };
  const kinds = new Map<string, Set<FieldKind>>();
  for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
    const found = new Set<FieldKind>();
    collectKinds(fieldSchema, found);
    kinds.set(field, found);
  }
  return kinds;
}

function collectKinds(schema: unknown, found: Set<FieldKind>): void {
  if (typeof schema !== 'object' || schema === null) return;
  const node = schema as { type?: unknown; anyOf?: unknown[]; oneOf?: unknown[]; enum?: unknown[] };
  const types = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];
  for (const type of types) {
    if (type === 'integer' || type === 'number') found.add('numeric');
    else if (type === 'string') found.add('text');
    else if (type === 'boolean') found.add('boolean');
    else if (type !== 'null') found.add('other');
  }
  for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) collectKinds(branch, found);
  if (node.enum)
    for (const value of node.enum) found.add(typeof value === 'number' ? 'numeric' : 'text');
}

/**
 * Checks a definition's shape, then its meaning against its source contract: every field named
 * exists, sums and averages are over numeric fields, filter values fit their fields, windows
 * are consistent and event time is a contract's event time. Returns the parsed definition.
 */
export function validateMetricDefinition(
  input: MetricDefinitionInput,
  contractFor: (table: string, version: number) => EventContract | undefined,
): MetricDefinition {
  const name = typeof input.name === 'string' ? input.name : '(unnamed)';
  const parsed = metricDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    throw new MetricDefinitionError(
      name,
      parsed.error.issues.map((issue) => ({
        path: issue.path.join('.') || '$',
        message: issue.message,
      })),
    );
  }
  const definition = parsed.data;
  const problems: MetricProblem[] = [];
  const contract = contractFor(definition.source.table, definition.source.contractVersion);
  if (!contract) {
    throw new MetricDefinitionError(name, [
      {
        path: 'source',
        message: `no contract ${definition.source.table} v${definition.source.contractVersion}`,
      },
    ]);
  }
  const kinds = fieldKinds(contract);
  const requireField = (path: string, field: string): Set<FieldKind> | undefined => {
    const found = kinds.get(field);
    if (!found) {
      problems.push({
        path,
        message: `${contract.table} v${contract.version} has no field "${field}"`,
      });
    }
    return found;
  };

  requireField('eventTimeField', definition.eventTimeField);
  if (definition.eventTimeField !== contract.eventTimeField) {
    problems.push({
      path: 'eventTimeField',
      message: `must be the contract's event-time field "${contract.eventTimeField}"`,
    });
  }
  definition.keys.forEach((key, index) => requireField(`keys.${index}`, key));
  if (new Set(definition.keys).size !== definition.keys.length) {
    problems.push({ path: 'keys', message: 'a key is listed twice' });
  }
  definition.filter.forEach((condition, index) => checkCondition(`filter.${index}`, condition));

  const { aggregate } = definition;
  if (aggregate.fn !== 'count') {
    if ('field' in aggregate.of) {
      const found = requireField('aggregate.of.field', aggregate.of.field);
      // min and max too: provisional values are numeric, and the batch compares numerically.
      const numericOnly = aggregate.fn !== 'count_distinct';
      if (found && numericOnly && !found.has('numeric')) {
        problems.push({
          path: 'aggregate.of.field',
          message: `${aggregate.fn} needs a numeric field; "${aggregate.of.field}" is ${[...found].join('/')}`,
        });
      }
    } else {
      if (aggregate.fn === 'count_distinct') {
        problems.push({
          path: 'aggregate.of',
          message: 'count_distinct counts a field, not an indicator',
        });
      }
      checkCondition('aggregate.of.indicator', aggregate.of.indicator);
    }
  }

  const { window } = definition;
  if (window.kind === 'hopping') {
    if (window.slideMs > window.sizeMs) {
      problems.push({ path: 'window.slideMs', message: 'a hop cannot be longer than the window' });
    } else if (window.sizeMs % window.slideMs !== 0) {
      problems.push({
        path: 'window.slideMs',
        message: 'the window size must be a multiple of the slide',
      });
    }
  }
  if (
    definition.emit.kind === 'every' &&
    window.kind !== 'session' &&
    definition.emit.intervalMs > windowSpan(definition)
  ) {
    problems.push({
      path: 'emit.intervalMs',
      message: 'emitting less often than a window lasts hides whole windows',
    });
  }

  if (problems.length > 0) throw new MetricDefinitionError(definition.name, problems);
  return definition;

  function checkCondition(path: string, condition: Condition): void {
    const found = requireField(`${path}.field`, condition.field);
    if (!found || !('value' in condition)) return;
    const values = Array.isArray(condition.value) ? condition.value : [condition.value];
    for (const value of values) {
      const kind: FieldKind =
        typeof value === 'number' ? 'numeric' : typeof value === 'boolean' ? 'boolean' : 'text';
      if (!found.has(kind)) {
        problems.push({
          path: `${path}.value`,
          message: `${JSON.stringify(value)} cannot be compared with "${condition.field}" (${[...found].join('/')})`,
        });
      }
    }
    const ordering = ['gt', 'gte', 'lt', 'lte'].includes(condition.op);
    if (ordering && !found.has('numeric') && !found.has('text')) {
      problems.push({ path: `${path}.op`, message: `${condition.op} needs an ordered field` });
    }
  }
}

/** How long one window of the definition lasts (a session: its gap). */
export function windowSpan(definition: MetricDefinition): number {
  const { window } = definition;
  return window.kind === 'session' ? window.gapMs : window.sizeMs;
}
