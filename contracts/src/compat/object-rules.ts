import { asSchema, childPointer, deepEqual, isJsonObject, isSchema } from './json';
import { containsRef, isTrivial, patternMatches, unevaluatedIsRest } from './keywords';
import { compareBound, compareOpaque, compareUnevaluated } from './scalar-rules';
import type { JsonObject, JsonSchema } from './types';
import { finding, type Finding, flagsOf, NARROWS, show, type Walk, WIDENS } from './walk';

/** The schemas that govern one property name in an object schema, and where they come from. */
interface Governing {
  declared: JsonSchema | undefined;
  patterns: [pattern: string, schema: JsonSchema][];
  additional: JsonSchema;
}

function schemaMap(value: unknown): Map<string, JsonSchema> {
  if (!isJsonObject(value)) return new Map();
  return new Map(
    Object.entries(value).filter((entry): entry is [string, JsonSchema] => isSchema(entry[1])),
  );
}

/** The schema for names neither `properties` nor `patternProperties` govern. */
function additionalOf(schema: JsonObject): JsonSchema {
  if (isSchema(schema.additionalProperties)) return schema.additionalProperties;
  return unevaluatedIsRest(schema, 'properties') ? asSchema(schema.unevaluatedProperties) : true;
}

function governing(schema: JsonObject, name: string): Governing {
  return {
    declared: schemaMap(schema.properties).get(name),
    patterns: [...schemaMap(schema.patternProperties)].filter(([pattern]) =>
      patternMatches(pattern, name),
    ),
    additional: additionalOf(schema),
  };
}

function sameSchema(a: JsonSchema | undefined, b: JsonSchema | undefined): boolean {
  return a !== undefined && b !== undefined && deepEqual(a, b) && !containsRef(a);
}

/**
 * The conjunction a name's value must satisfy, minus the patterns both sides share unchanged
 * (they constrain both alike, so leaving them out can only over-report). A declaration that
 * accepts everything its matching patterns accept adds nothing to them, and is left out too.
 */
function conjunction(own: Governing, other: Governing, pointer: string, walk: Walk): JsonSchema[] {
  const shared = (pattern: string, schema: JsonSchema) =>
    other.patterns.some(([key, value]) => key === pattern && sameSchema(schema, value));
  const patterns = own.patterns
    .filter(([pattern, schema]) => !shared(pattern, schema))
    .map(([, schema]) => schema);
  if (own.declared !== undefined && !impliedByPatterns(own, pointer, walk)) {
    return [own.declared, ...patterns];
  }
  if (own.patterns.length > 0) return patterns;
  return [own.additional];
}

/** Whether every value a name's matching patterns accept, its declaration accepts too. */
function impliedByPatterns(own: Governing, pointer: string, walk: Walk): boolean {
  if (own.declared === undefined || own.patterns.length === 0) return false;
  const schemas = own.patterns.map(([, schema]) => schema);
  const patterns = schemas.length === 1 ? (schemas[0] as JsonSchema) : { allOf: schemas };
  return !flagsOf(walk.compare(patterns, own.declared, pointer)).narrows;
}

function compareConjunctions(
  previous: JsonSchema[],
  next: JsonSchema[],
  pointer: string,
  walk: Walk,
): Finding[] {
  if (previous.length <= 1 && next.length <= 1) {
    return walk.compare(previous[0] ?? true, next[0] ?? true, pointer);
  }
  return walk.compare({ allOf: previous }, { allOf: next }, pointer);
}

/** What governs a name on the side that does not declare it, for messages. */
function describeUndeclared(governed: Governing): 'closed' | 'open' | string {
  if (governed.patterns.length > 0) {
    return `patternProperties ${governed.patterns.map(([key]) => show(key)).join(', ')}`;
  }
  if (governed.additional === false) return 'closed';
  if (isTrivial(governed.additional)) return 'open';
  return `additionalProperties ${show(governed.additional)}`;
}

function describeEffect(flags: { narrows: boolean; widens: boolean }): string {
  const effects = [
    flags.narrows ? 'some values valid before now fail' : '',
    flags.widens ? 'some values that failed before are now valid' : '',
  ].filter(Boolean);
  return effects.length > 0 ? effects.join(', and ') : 'no value changes validity';
}

function addedMessage(name: string, before: Governing, flags: { narrows: boolean }): string {
  const model = describeUndeclared(before);
  if (model === 'closed') {
    return `property "${name}" added to a closed content model: data carrying it failed the previous schema`;
  }
  if (model === 'open') {
    return flags.narrows
      ? `property "${name}" added to an open content model: values the previous schema allowed under that name may now fail`
      : `property "${name}" added to an open content model without constraining it`;
  }
  return `property "${name}" added where ${model} applied: ${describeEffect({ widens: false, ...flags })}`;
}

function removedMessage(name: string, after: Governing, flags: { widens: boolean }): string {
  const model = describeUndeclared(after);
  if (model === 'closed') {
    return `property "${name}" removed from a closed content model: data carrying it now fails`;
  }
  if (model === 'open') {
    return flags.widens
      ? `property "${name}" removed from an open content model: any value is now allowed under that name`
      : `property "${name}" removed from an open content model; it was unconstrained already`;
  }
  return `property "${name}" removed, so ${model} applies to it: ${describeEffect({ narrows: false, ...flags })}`;
}

function compareProperty(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  name: string,
  walk: Walk,
): Finding[] {
  const before = governing(previous, name);
  const after = governing(next, name);
  const at = childPointer(pointer, 'properties', name);
  const nested = compareConjunctions(
    conjunction(before, after, at, walk),
    conjunction(after, before, at, walk),
    at,
    walk,
  );
  if (before.declared !== undefined && after.declared !== undefined) return nested;
  const flags = flagsOf(nested);
  if (after.declared !== undefined) {
    return [finding(at, 'PROPERTY_ADDED', addedMessage(name, before, flags), flags)];
  }
  return [finding(at, 'PROPERTY_REMOVED', removedMessage(name, after, flags), flags)];
}

function compareAdditional(previous: JsonObject, next: JsonObject, pointer: string, walk: Walk) {
  const before = additionalOf(previous);
  const after = additionalOf(next);
  if (sameSchema(before, after) || (isTrivial(before) && isTrivial(after))) return [];
  const at = childPointer(pointer, 'additionalProperties');
  if (after === false) {
    return [
      finding(
        at,
        'ADDITIONAL_PROPERTIES_CLOSED',
        'content model closed (additionalProperties false): undeclared properties now rejected',
        NARROWS,
      ),
    ];
  }
  if (before === false) {
    return [
      finding(
        at,
        'ADDITIONAL_PROPERTIES_OPENED',
        'content model opened: undeclared properties now accepted',
        WIDENS,
      ),
    ];
  }
  if (isTrivial(before)) {
    return [
      finding(
        at,
        'ADDITIONAL_PROPERTIES_RESTRICTED',
        `undeclared properties must now match ${show(after)}`,
        flagsOf(walk.compare(before, after, at)),
      ),
    ];
  }
  if (isTrivial(after)) {
    return [
      finding(
        at,
        'ADDITIONAL_PROPERTIES_RELAXED',
        `undeclared properties no longer need to match ${show(before)}`,
        flagsOf(walk.compare(before, after, at)),
      ),
    ];
  }
  return walk.compare(before, after, at);
}

function comparePatternProperties(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  walk: Walk,
): Finding[] {
  const before = schemaMap(previous.patternProperties);
  const after = schemaMap(next.patternProperties);
  const findings: Finding[] = [];
  for (const pattern of new Set([...before.keys(), ...after.keys()])) {
    const at = childPointer(pointer, 'patternProperties', pattern);
    const was = before.get(pattern);
    const is = after.get(pattern);
    if (was !== undefined && is !== undefined) {
      findings.push(...walk.compare(was, is, at));
    } else if (is !== undefined) {
      // Names matching it fell to additionalProperties before; where another pattern also
      // matches them, the new one can only add a condition.
      const flags = flagsOf(walk.compare(additionalOf(previous), is, at));
      const overlaps = before.size > 0 && !isTrivial(is);
      findings.push(
        finding(
          at,
          'PATTERN_PROPERTY_ADDED',
          `patternProperties ${show(pattern)} added: matching undeclared names must match ${show(is)}`,
          { narrows: flags.narrows || overlaps, widens: flags.widens },
        ),
      );
    } else if (was !== undefined) {
      const flags = flagsOf(walk.compare(was, additionalOf(next), at));
      const overlaps = after.size > 0 && !isTrivial(was);
      findings.push(
        finding(
          at,
          'PATTERN_PROPERTY_REMOVED',
          `patternProperties ${show(pattern)} removed: matching undeclared names fall to additionalProperties`,
          { narrows: flags.narrows, widens: flags.widens || overlaps },
        ),
      );
    }
  }
  return findings;
}

function stringSet(value: unknown): Set<string> {
  return new Set(
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [],
  );
}

function compareRequired(previous: JsonObject, next: JsonObject, pointer: string): Finding[] {
  const before = stringSet(previous.required);
  const after = stringSet(next.required);
  const at = childPointer(pointer, 'required');
  return [
    ...[...after]
      .filter((name) => !before.has(name))
      .map((name) =>
        finding(
          at,
          'REQUIRED_ADDED',
          `"${name}" is now required: data without it is rejected`,
          NARROWS,
        ),
      ),
    ...[...before]
      .filter((name) => !after.has(name))
      .map((name) =>
        finding(
          at,
          'REQUIRED_REMOVED',
          `"${name}" is no longer required: data without it is now valid`,
          WIDENS,
        ),
      ),
  ];
}

// Object keywords without a finer rule; each only adds a condition on the object.
const CONJUNCTIVE_OBJECT_KEYWORDS = ['propertyNames'];

// Conditions that apply when a property is present: names it then requires (a list), or a
// schema the object must then match. Draft 7's `dependencies` holds either form per property.
const DEPENDENCY_KEYWORDS = ['dependencies', 'dependentRequired', 'dependentSchemas'];

/** A dependency as a schema: a list of names is the schema requiring them. */
function dependencySchema(value: unknown): JsonSchema {
  return Array.isArray(value) ? { required: value } : asSchema(value);
}

/**
 * One dependency keyword, entry by entry: each is a condition on objects carrying its property,
 * so an entry added narrows, one removed widens, and a changed one is compared as the schema it
 * amounts to (names added to a list are required names added).
 */
function compareDependencies(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  keyword: string,
  walk: Walk,
): Finding[] {
  const before = isJsonObject(previous[keyword]) ? previous[keyword] : {};
  const after = isJsonObject(next[keyword]) ? next[keyword] : {};
  const findings: Finding[] = [];
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const at = childPointer(pointer, keyword, name);
    const was = Object.hasOwn(before, name) ? before[name] : undefined;
    const is = Object.hasOwn(after, name) ? after[name] : undefined;
    if (was !== undefined && is !== undefined) {
      if (Array.isArray(was) && Array.isArray(is)) {
        findings.push(...compareDependentNames(was, is, at, name));
      } else {
        findings.push(...walk.compare(dependencySchema(was), dependencySchema(is), at));
      }
    } else if (is !== undefined) {
      findings.push(
        finding(
          at,
          'DEPENDENCY_ADDED',
          `objects with "${name}" must now match ${show(is)}`,
          NARROWS,
        ),
      );
    } else {
      findings.push(
        finding(
          at,
          'DEPENDENCY_REMOVED',
          `objects with "${name}" no longer need to match ${show(was)}`,
          WIDENS,
        ),
      );
    }
  }
  return findings;
}

function compareDependentNames(
  previous: unknown[],
  next: unknown[],
  pointer: string,
  name: string,
): Finding[] {
  const added = next.filter((item) => !previous.includes(item)).map(show);
  const removed = previous.filter((item) => !next.includes(item)).map(show);
  const findings: Finding[] = [];
  if (added.length > 0) {
    const message = `objects with "${name}" now also require ${added.join(', ')}`;
    findings.push(finding(pointer, 'DEPENDENCY_ADDED', message, NARROWS));
  }
  if (removed.length > 0) {
    const message = `objects with "${name}" no longer require ${removed.join(', ')}`;
    findings.push(finding(pointer, 'DEPENDENCY_REMOVED', message, WIDENS));
  }
  return findings;
}

/**
 * The object keywords: every property name either side declares, compared through whatever
 * governs it on each side (its declaration, matching patternProperties, or additionalProperties,
 * which is how open and closed content models come in), then the model itself and the counts.
 */
export function compareObjectKeywords(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  walk: Walk,
): Finding[] {
  const names = new Set([
    ...schemaMap(previous.properties).keys(),
    ...schemaMap(next.properties).keys(),
  ]);
  return [
    ...[...names].flatMap((name) => compareProperty(previous, next, pointer, name, walk)),
    ...compareRequired(previous, next, pointer),
    ...compareAdditional(previous, next, pointer, walk),
    ...comparePatternProperties(previous, next, pointer, walk),
    ...compareBound(previous, next, pointer, 'minProperties'),
    ...compareBound(previous, next, pointer, 'maxProperties'),
    ...CONJUNCTIVE_OBJECT_KEYWORDS.flatMap((keyword) =>
      compareOpaque(previous, next, pointer, keyword, true),
    ),
    ...DEPENDENCY_KEYWORDS.flatMap((keyword) =>
      compareDependencies(previous, next, pointer, keyword, walk),
    ),
    ...compareUnevaluated(previous, next, pointer, 'properties'),
  ];
}
