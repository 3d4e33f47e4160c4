import { childPointer, deepEqual, isJsonObject } from './json';
import {
  allowedValues,
  patternMatches,
  typeAdmitted,
  typesOf,
  unevaluatedIsRest,
} from './keywords';
import type { JsonObject, SchemaChangeRule } from './types';
import { BOTH, finding, type Finding, NARROWS, show, WIDENS } from './walk';

type Flags = { narrows: boolean; widens: boolean };

function describeTypes(schema: JsonObject, types: ReadonlySet<string>): string {
  if (schema.type === undefined && !allowedValues(schema)) return 'any type';
  const list = [...types];
  return list.length === 1 ? `"${list[0]}"` : show(list);
}

/** `type`: which JSON types the next schema stops or starts accepting. */
export function compareType(previous: JsonObject, next: JsonObject, pointer: string): Finding[] {
  // Without an explicit `type` on either side the enum/const rule says everything there is.
  if (previous.type === undefined && next.type === undefined) return [];
  const before = typesOf(previous);
  const after = typesOf(next);
  const lost = [...before].filter((type) => !typeAdmitted(type, after));
  const gained = [...after].filter((type) => !typeAdmitted(type, before));
  if (lost.length === 0 && gained.length === 0) return [];
  const at = childPointer(pointer, 'type');
  const what = `type changed from ${describeTypes(previous, before)} to ${describeTypes(next, after)}`;
  const lostText = lost.includes('integer')
    ? lost.filter((type) => type !== 'integer')
    : lost.map((type) => (type === 'number' ? 'non-integer numbers' : type));
  if (lost.includes('integer') && !lostText.includes('number')) lostText.push('integer');
  if (gained.length === 0) {
    return [
      finding(at, 'TYPE_NARROWED', `${what}: ${lostText.join(', ')} no longer valid`, NARROWS),
    ];
  }
  if (lost.length === 0) {
    return [finding(at, 'TYPE_WIDENED', `${what}: ${gained.join(', ')} now valid`, WIDENS)];
  }
  return [
    finding(
      at,
      'TYPE_CHANGED',
      `${what}: ${lostText.join(', ')} no longer valid, ${gained.join(', ')} now valid`,
      BOTH,
    ),
  ];
}

function valuesKeyword(schema: JsonObject): 'const' | 'enum' {
  return Object.hasOwn(schema, 'const') ? 'const' : 'enum';
}

/** `enum` and `const`: the finite sets of values each side allows, when it has one. */
export function compareValues(previous: JsonObject, next: JsonObject, pointer: string): Finding[] {
  const before = allowedValues(previous);
  const after = allowedValues(next);
  if (!before && !after) return [];
  if (before && !after) {
    const keyword = valuesKeyword(previous);
    const rule = keyword === 'const' ? 'CONST_REMOVED' : 'ENUM_REMOVED';
    return [
      finding(
        childPointer(pointer, keyword),
        rule,
        `${keyword} ${show(previous[keyword])} removed: other values now valid`,
        WIDENS,
      ),
    ];
  }
  if (!before && after) {
    const keyword = valuesKeyword(next);
    const rule = keyword === 'const' ? 'CONST_ADDED' : 'ENUM_ADDED';
    return [
      finding(
        childPointer(pointer, keyword),
        rule,
        `${keyword} ${show(next[keyword])} added: only those values remain valid`,
        NARROWS,
      ),
    ];
  }
  if (!before || !after) return [];
  const keyword = valuesKeyword(next);
  const at = childPointer(pointer, keyword);
  const constOnly = (schema: JsonObject) => valuesKeyword(schema) === 'const' && !schema.enum;
  if (constOnly(previous) && constOnly(next)) {
    if (deepEqual(previous.const, next.const)) return [];
    return [
      finding(
        at,
        'CONST_CHANGED',
        `const ${show(previous.const)} became ${show(next.const)}`,
        BOTH,
      ),
    ];
  }
  const removed = before.filter((value) => !after.some((other) => deepEqual(value, other)));
  const added = after.filter((value) => !before.some((other) => deepEqual(value, other)));
  const findings: Finding[] = [];
  if (removed.length > 0) {
    findings.push(
      finding(
        at,
        'ENUM_VALUE_REMOVED',
        `value(s) ${removed.map(show).join(', ')} no longer allowed`,
        NARROWS,
      ),
    );
  }
  if (added.length > 0) {
    findings.push(
      finding(at, 'ENUM_VALUE_ADDED', `value(s) ${added.map(show).join(', ')} now allowed`, WIDENS),
    );
  }
  return findings;
}

const RULE_PREFIX = {
  minimum: 'MINIMUM',
  exclusiveMinimum: 'EXCLUSIVE_MINIMUM',
  maximum: 'MAXIMUM',
  exclusiveMaximum: 'EXCLUSIVE_MAXIMUM',
  minLength: 'MIN_LENGTH',
  maxLength: 'MAX_LENGTH',
  minItems: 'MIN_ITEMS',
  maxItems: 'MAX_ITEMS',
  minProperties: 'MIN_PROPERTIES',
  maxProperties: 'MAX_PROPERTIES',
} as const;
export type BoundKeyword = keyof typeof RULE_PREFIX;
const LOWER_BOUNDS: ReadonlySet<BoundKeyword> = new Set([
  'minimum',
  'exclusiveMinimum',
  'minLength',
  'minItems',
  'minProperties',
]);

const NUMERIC_BOUNDS: ReadonlySet<string> = new Set([
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
]);

/** What a bound keyword measures of an instance, or undefined when it does not apply to it. */
function measure(keyword: BoundKeyword, instance: unknown): number | undefined {
  if (NUMERIC_BOUNDS.has(keyword)) return typeof instance === 'number' ? instance : undefined;
  if (keyword.endsWith('Length')) {
    return typeof instance === 'string' ? [...instance].length : undefined;
  }
  if (keyword.endsWith('Items')) return Array.isArray(instance) ? instance.length : undefined;
  return isJsonObject(instance) ? Object.keys(instance).length : undefined;
}

/**
 * Whether one keyword of a schema accepts an instance; instances of types the keyword does not
 * apply to pass. Unknown formats count as rejecting, to stay on the cautious side.
 */
export function keywordAccepts(schema: JsonObject, keyword: string, instance: unknown): boolean {
  const bound = schema[keyword];
  if (bound === undefined) return true;
  if (Object.hasOwn(RULE_PREFIX, keyword)) {
    const value = measure(keyword as BoundKeyword, instance);
    if (value === undefined) return true;
    if (typeof bound !== 'number') return false;
    if (keyword === 'exclusiveMinimum') return value > bound;
    if (keyword === 'exclusiveMaximum') return value < bound;
    return LOWER_BOUNDS.has(keyword as BoundKeyword) ? value >= bound : value <= bound;
  }
  if (keyword === 'multipleOf') {
    if (typeof instance !== 'number') return true;
    return typeof bound === 'number' && isMultiple(instance, bound);
  }
  if (keyword === 'pattern') {
    if (typeof instance !== 'string') return true;
    return typeof bound === 'string' && validPattern(bound) && patternMatches(bound, instance);
  }
  if (keyword === 'format') return typeof instance !== 'string';
  return false;
}

function validPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

function isMultiple(value: number, divisor: number): boolean {
  if (divisor <= 0) return false;
  const quotient = value / divisor;
  return Math.abs(quotient - Math.round(quotient)) < 1e-9;
}

/**
 * Where a side allows only a finite set of values, the cautious flags can be checked exactly:
 * a keyword narrows only if one of the previous values fails it, widens only if one of the next
 * values fails the previous keyword.
 */
function refine(flags: Flags, previous: JsonObject, next: JsonObject, keyword: string): Flags {
  const before = allowedValues(previous);
  const after = allowedValues(next);
  return {
    narrows:
      flags.narrows && (!before || before.some((value) => !keywordAccepts(next, keyword, value))),
    widens:
      flags.widens && (!after || after.some((value) => !keywordAccepts(previous, keyword, value))),
  };
}

/** A numeric bound (`minimum`, `maxLength`, `minItems`, ...) added, removed, raised or lowered. */
export function compareBound(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  keyword: BoundKeyword,
): Finding[] {
  const before = previous[keyword];
  const after = next[keyword];
  if (before === undefined && after === undefined) return [];
  if (deepEqual(before, after)) return [];
  const at = childPointer(pointer, keyword);
  const prefix = RULE_PREFIX[keyword];
  const lower = LOWER_BOUNDS.has(keyword);
  if (
    (before !== undefined && typeof before !== 'number') ||
    (after !== undefined && typeof after !== 'number')
  ) {
    return [
      finding(at, 'KEYWORD_CHANGED', `${keyword} ${show(before)} became ${show(after)}`, BOTH),
    ];
  }
  let rule: SchemaChangeRule;
  let message: string;
  let flags: Flags;
  if (before === undefined) {
    rule = `${prefix}_ADDED`;
    message = `${keyword} ${show(after)} added`;
    flags = NARROWS;
  } else if (after === undefined) {
    rule = `${prefix}_REMOVED`;
    message = `${keyword} ${show(before)} removed`;
    flags = WIDENS;
  } else if (after > before) {
    rule = `${prefix}_INCREASED`;
    message = `${keyword} raised from ${before} to ${after}`;
    flags = lower ? NARROWS : WIDENS;
  } else {
    rule = `${prefix}_DECREASED`;
    message = `${keyword} lowered from ${before} to ${after}`;
    flags = lower ? WIDENS : NARROWS;
  }
  return [finding(at, rule, message, refine(flags, previous, next, keyword))];
}

/** `multipleOf`: a multiple of the old step narrows, a divisor of it widens, others do both. */
export function compareMultipleOf(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
): Finding[] {
  const before = previous.multipleOf;
  const after = next.multipleOf;
  if (deepEqual(before, after)) return [];
  const at = childPointer(pointer, 'multipleOf');
  if (before === undefined) {
    return [
      finding(
        at,
        'MULTIPLE_OF_ADDED',
        `multipleOf ${show(after)} added`,
        refine(NARROWS, previous, next, 'multipleOf'),
      ),
    ];
  }
  if (after === undefined) {
    return [
      finding(
        at,
        'MULTIPLE_OF_REMOVED',
        `multipleOf ${show(before)} removed`,
        refine(WIDENS, previous, next, 'multipleOf'),
      ),
    ];
  }
  let flags: Flags = BOTH;
  if (typeof before === 'number' && typeof after === 'number') {
    if (isMultiple(after, before)) flags = NARROWS;
    else if (isMultiple(before, after)) flags = WIDENS;
  }
  return [
    finding(
      at,
      'MULTIPLE_OF_CHANGED',
      `multipleOf ${show(before)} became ${show(after)}`,
      refine(flags, previous, next, 'multipleOf'),
    ),
  ];
}

/**
 * `pattern` and `format`: added narrows, removed widens; a changed one may do both, since
 * whether one regular expression admits everything another does is not something to guess.
 */
export function compareStringShape(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  keyword: 'pattern' | 'format',
): Finding[] {
  const before = previous[keyword];
  const after = next[keyword];
  if (deepEqual(before, after)) return [];
  const prefix = keyword === 'pattern' ? 'PATTERN' : 'FORMAT';
  const at = childPointer(pointer, keyword);
  if (before === undefined) {
    return [
      finding(
        at,
        `${prefix}_ADDED`,
        `${keyword} ${show(after)} added`,
        refine(NARROWS, previous, next, keyword),
      ),
    ];
  }
  if (after === undefined) {
    return [
      finding(
        at,
        `${prefix}_REMOVED`,
        `${keyword} ${show(before)} removed`,
        refine(WIDENS, previous, next, keyword),
      ),
    ];
  }
  return [
    finding(
      at,
      `${prefix}_CHANGED`,
      `${keyword} ${show(before)} became ${show(after)}; treated as breaking both ways`,
      refine(BOTH, previous, next, keyword),
    ),
  ];
}

/** `uniqueItems`: turning it on narrows, turning it off widens. */
export function compareUniqueItems(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
): Finding[] {
  const before = previous.uniqueItems === true;
  const after = next.uniqueItems === true;
  if (before === after) return [];
  const at = childPointer(pointer, 'uniqueItems');
  return after
    ? [finding(at, 'UNIQUE_ITEMS_ADDED', 'items must now be unique', NARROWS)]
    : [finding(at, 'UNIQUE_ITEMS_REMOVED', 'items no longer need to be unique', WIDENS)];
}

/**
 * A keyword with no finer rule. `conjunctive` keywords only ever add a condition, so adding one
 * narrows and removing one widens; any other change is taken to break both ways.
 */
export function compareOpaque(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  keyword: string,
  conjunctive: boolean,
): Finding[] {
  const before = previous[keyword];
  const after = next[keyword];
  if (before === undefined && after === undefined) return [];
  if (deepEqual(before, after)) return [];
  const at = childPointer(pointer, keyword);
  if (before === undefined) {
    return [finding(at, 'KEYWORD_ADDED', `${keyword} added`, conjunctive ? NARROWS : BOTH)];
  }
  if (after === undefined) {
    return [finding(at, 'KEYWORD_REMOVED', `${keyword} removed`, conjunctive ? WIDENS : BOTH)];
  }
  return [
    finding(at, 'KEYWORD_CHANGED', `${keyword} changed; treated as breaking both ways`, BOTH),
  ];
}

/**
 * `unevaluatedItems` / `unevaluatedProperties`. Where it is the schema for what a side's own
 * keywords leave ungoverned (`unevaluatedIsRest`), the item and property rules compare it as
 * that; where subschemas applied in place decide what it covers, any difference between the
 * two sides may change which values it sees, so it is taken as breaking both ways.
 */
export function compareUnevaluated(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  of: 'items' | 'properties',
): Finding[] {
  const keyword = of === 'items' ? 'unevaluatedItems' : 'unevaluatedProperties';
  const sides = [previous, next].filter((schema) => Object.hasOwn(schema, keyword));
  if (sides.every((schema) => unevaluatedIsRest(schema, of))) return [];
  if (deepEqual(previous, next)) return [];
  return [
    finding(
      childPointer(pointer, keyword),
      'KEYWORD_CHANGED',
      `${keyword} beside subschemas applied in place: which ${of} it covers may change; taken as breaking both ways`,
      BOTH,
    ),
  ];
}
