import { asSchema, deepEqual, isJsonObject } from './json';
import type { JsonObject, JsonSchema } from './types';

/** JSON Schema's instance types; `integer` is the subset of `number` with no fraction. */
export const JSON_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];

// Keywords whose value is one subschema, a map of them, or a list of them (`items`, one or a
// list, and draft 7's `dependencies`, a schema or a list of names per property, aside).
export const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'unevaluatedProperties',
  'propertyNames',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
];
export const SCHEMA_MAP_KEYWORDS = [
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
];
export const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];

// Keywords that never make an instance invalid, so a change to them is never reported.
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$comment',
  '$defs',
  'definitions',
  '$vocabulary',
  'id',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
]);

/** Whether a keyword only annotates (titles, descriptions, `$defs`, `x-` extensions). */
export function isAnnotation(keyword: string): boolean {
  return ANNOTATIONS.has(keyword) || keyword.startsWith('x-');
}

/** Whether a schema accepts every instance: `true`, `{}` or annotations only. */
export function isTrivial(schema: unknown): boolean {
  return schema === true || (isJsonObject(schema) && Object.keys(schema).every(isAnnotation));
}

/** The object keywords of a schema, without the given keywords. */
export function without(schema: JsonObject, ...keywords: string[]): JsonObject {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !keywords.includes(key)));
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** The types a schema admits: its `type`, else the types of its `const`/`enum`, else all. */
export function typesOf(schema: JsonObject): Set<string> {
  if (typeof schema.type === 'string') return new Set([schema.type]);
  if (Array.isArray(schema.type)) {
    return new Set(schema.type.filter((t): t is string => typeof t === 'string'));
  }
  const values = allowedValues(schema);
  if (values) return new Set(values.map(jsonTypeOf));
  return new Set(JSON_TYPES);
}

/** Whether an instance of type `type` passes a `type` keyword admitting `admitted`. */
export function typeAdmitted(type: string, admitted: ReadonlySet<string>): boolean {
  return admitted.has(type) || (type === 'integer' && admitted.has('number'));
}

/** Whether a schema admits any instance of the given type. */
export function admitsType(schema: JsonObject, type: string): boolean {
  const types = typesOf(schema);
  return types.has(type) || (type === 'number' && types.has('integer'));
}

/**
 * The finite set of values a schema allows through `const` or `enum`, if it has one; with both,
 * the values both allow (none when `const` is not in `enum`).
 */
export function allowedValues(schema: JsonObject): unknown[] | undefined {
  const listed = Array.isArray(schema.enum) ? schema.enum : undefined;
  if (!Object.hasOwn(schema, 'const')) return listed;
  if (listed && !listed.some((value) => deepEqual(value, schema.const))) return [];
  return [schema.const];
}

/** A schema's items split into positional ones and the schema for every later position. */
export interface ItemLayout {
  prefix: JsonSchema[];
  rest: JsonSchema;
  /** Whether positions are spelled draft-07 style, `items: [...]` with `additionalItems`. */
  draft07: boolean;
}

// Subschemas applied to the instance itself, whose evaluated items and properties
// `unevaluatedItems` and `unevaluatedProperties` also count (`not` passes no annotations on).
const IN_PLACE_APPLICATORS = [
  'allOf',
  'anyOf',
  'oneOf',
  'if',
  'then',
  'else',
  '$ref',
  '$dynamicRef',
  '$recursiveRef',
  'dependentSchemas',
];

/**
 * Whether a schema's `unevaluatedItems` (`of` items) or `unevaluatedProperties` is simply the
 * schema for the positions or names its own keywords leave ungoverned, as `items` and
 * `additionalProperties` are: nothing applied in place (nor `contains`, for items) can mark more
 * of them evaluated. Otherwise what it covers depends on which subschemas pass.
 */
export function unevaluatedIsRest(schema: JsonObject, of: 'items' | 'properties'): boolean {
  const applied = of === 'items' ? [...IN_PLACE_APPLICATORS, 'contains'] : IN_PLACE_APPLICATORS;
  return !applied.some((keyword) => Object.hasOwn(schema, keyword));
}

/** How a schema constrains array items, in either the 2020-12 or the draft-07 spelling. */
export function itemLayout(schema: JsonObject): ItemLayout {
  if (Array.isArray(schema.items) && !Array.isArray(schema.prefixItems)) {
    return {
      prefix: schema.items.map(asSchema),
      rest: asSchema(schema.additionalItems),
      draft07: true,
    };
  }
  const unevaluated = unevaluatedIsRest(schema, 'items') ? schema.unevaluatedItems : undefined;
  return {
    prefix: Array.isArray(schema.prefixItems) ? schema.prefixItems.map(asSchema) : [],
    rest: Array.isArray(schema.items) ? true : asSchema(schema.items ?? unevaluated),
    draft07: false,
  };
}

/** Tests a `patternProperties` key against a name; an invalid pattern counts as matching. */
export function patternMatches(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(name);
  } catch {
    return true;
  }
}

/** Whether a schema mentions `$ref` anywhere, so equal text need not mean equal meaning. */
export function containsRef(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsRef);
  if (!isJsonObject(value)) return false;
  return Object.entries(value).some(([key, child]) => key === '$ref' || containsRef(child));
}
