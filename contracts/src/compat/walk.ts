import type { JsonSchema, SchemaChangeRule } from './types';

/**
 * One difference the walk found, before a mode is applied. `narrows`: some instance valid under
 * the previous schema may be invalid under the next (breaks BACKWARD); `widens`: the reverse
 * (breaks FORWARD).
 */
export interface Finding {
  pointer: string;
  rule: SchemaChangeRule;
  message: string;
  narrows: boolean;
  widens: boolean;
}

/** Which document a subschema belongs to, so its `$ref`s resolve against the right root. */
export type Side = 'previous' | 'next';

/** What the keyword rules need from the walk: recursion, and `$ref` resolution per side. */
export interface Walk {
  /** Compares a subschema of the previous document with one of the next, under `pointer`. */
  compare(previous: JsonSchema, next: JsonSchema, pointer: string): Finding[];
  /** Follows `$ref`s at the top of a subschema; undefined when one does not resolve. */
  resolve(schema: JsonSchema, side: Side): JsonSchema | undefined;
}

/** Builds a finding; the two flags say which directions it breaks. */
export function finding(
  pointer: string,
  rule: SchemaChangeRule,
  message: string,
  flags: { narrows: boolean; widens: boolean },
): Finding {
  return { pointer, rule, message, narrows: flags.narrows, widens: flags.widens };
}

export const NARROWS = { narrows: true, widens: false } as const;
export const WIDENS = { narrows: false, widens: true } as const;
export const BOTH = { narrows: true, widens: true } as const;
export const NEITHER = { narrows: false, widens: false } as const;

/** Whether any of the findings narrows, and whether any widens. */
export function flagsOf(findings: readonly Finding[]): { narrows: boolean; widens: boolean } {
  return {
    narrows: findings.some((item) => item.narrows),
    widens: findings.some((item) => item.widens),
  };
}

/** A JSON value shortened for a message. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
