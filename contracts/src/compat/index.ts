import { compareSchemas } from './compare';
import {
  COMPATIBILITY_MODES,
  type CompatibilityMode,
  type CompatibilityReport,
  type JsonSchema,
  type SchemaChange,
} from './types';
import type { Finding } from './walk';

export { COMPATIBILITY_MODES, SCHEMA_CHANGE_RULES } from './types';
export type {
  CompatibilityMode,
  CompatibilityReport,
  JsonSchema,
  SchemaChange,
  SchemaChangeRule,
  SchemaProblem,
} from './types';
export { validateJsonSchema } from './validate-schema';

/** Whether a change breaks a mode: BACKWARD* on narrowing, FORWARD* on widening, FULL* on either. */
export function breaksMode(
  mode: CompatibilityMode,
  change: Pick<SchemaChange, 'breaksBackward' | 'breaksForward'>,
): boolean {
  if (mode === 'NONE') return false;
  if (mode.startsWith('BACKWARD')) return change.breaksBackward;
  if (mode.startsWith('FORWARD')) return change.breaksForward;
  return change.breaksBackward || change.breaksForward;
}

function toChange(
  item: Finding,
  mode: CompatibilityMode,
  againstVersionIndex: number,
): SchemaChange {
  const flags = { breaksBackward: item.narrows, breaksForward: item.widens };
  return {
    pointer: item.pointer,
    rule: item.rule,
    message: item.message,
    ...flags,
    breaks: breaksMode(mode, flags),
    againstVersionIndex,
  };
}

/**
 * Checks a next schema against a previous one with Schema Registry semantics: BACKWARD when a
 * consumer using `next` can read everything written with `previous` (next is not narrower),
 * FORWARD the reverse, FULL both, NONE never breaks. Every change is reported, breaking or not.
 */
export function checkCompatibility(
  previous: JsonSchema,
  next: JsonSchema,
  mode: CompatibilityMode,
): CompatibilityReport {
  return checkHistory([previous], next, mode);
}

/**
 * Checks a next schema against the earlier versions, oldest first: every one of them under a
 * `_TRANSITIVE` mode, only the latest otherwise. Each change carries the index of the version it
 * was measured against.
 */
export function checkHistory(
  earlierVersions: readonly JsonSchema[],
  next: JsonSchema,
  mode: CompatibilityMode,
): CompatibilityReport {
  const latest = earlierVersions.length - 1;
  const against = mode.endsWith('_TRANSITIVE')
    ? earlierVersions.map((_, index) => index)
    : latest >= 0
      ? [latest]
      : [];
  const changes = against.flatMap((index) =>
    compareSchemas(earlierVersions[index] as JsonSchema, next).map((item) =>
      toChange(item, mode, index),
    ),
  );
  return { mode, compatible: !changes.some((change) => change.breaks), changes };
}

/** Reads a mode as Schema Registry spells it; case and `-` for `_` are forgiven. */
export function parseCompatibilityMode(text: string): CompatibilityMode | undefined {
  const normalized = text.trim().toUpperCase().replaceAll('-', '_');
  return COMPATIBILITY_MODES.find((mode) => mode === normalized);
}
