import fc from 'fast-check';
import { type Draft as AnyDraft, DRAFT_URIS } from './drafts';
import { SCHEMA_KEYWORDS, SCHEMA_LIST_KEYWORDS, SCHEMA_MAP_KEYWORDS } from './keywords';
import type { JsonObject, JsonSchema } from './types';

// Random JSON Schemas, edits of them and instances, for the soundness property of the checker
// (soundness.test.ts). The vocabulary is small on purpose (a few property names, patterns and
// numbers), so that random instances often fall on the edges the schemas draw.

/** The drafts the samples are written in. */
export type Draft = Extract<AnyDraft, 'draft-07' | '2020-12'>;

const NAMES = ['a', 'b', 'xa', 'xb'];
const PATTERNS = ['^x', '^a', 'b$'];
const STRINGS = ['', 'a', 'xa', 'ab', 'abc', '2020-01-01', 'x-y-z'];
const NUMBERS = [-1, 0, 1, 1.5, 2, 3, 10];
const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];

const scalarValue = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.constantFrom(...NUMBERS),
  fc.boolean(),
  fc.constant(null),
);

/** A random JSON value over the vocabulary, up to three levels deep. */
export const instanceArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarValue,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...NAMES, 'c'), tie('value'), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
  ),
})).value;

const bound = fc.constantFrom(0, 1, 2, 3);

function keywordArbs(draft: Draft, sub: fc.Arbitrary<JsonSchema>): fc.Arbitrary<JsonObject>[] {
  const common: fc.Arbitrary<JsonObject>[] = [
    fc.record({ type: fc.oneof(fc.constantFrom(...TYPES), fc.subarray(TYPES, { minLength: 1 })) }),
    fc.record({ enum: fc.uniqueArray(scalarValue, { minLength: 1, maxLength: 3 }) }),
    fc.record({ const: scalarValue }),
    fc.record({ minimum: fc.constantFrom(...NUMBERS) }),
    fc.record({ maximum: fc.constantFrom(...NUMBERS) }),
    fc.record({ exclusiveMinimum: fc.constantFrom(...NUMBERS) }),
    fc.record({ exclusiveMaximum: fc.constantFrom(...NUMBERS) }),
    fc.record({ multipleOf: fc.constantFrom(0.5, 1, 2, 3) }),
    fc.record({ minLength: bound }),
    fc.record({ maxLength: bound }),
    fc.record({ pattern: fc.constantFrom(...PATTERNS) }),
    fc.record({ format: fc.constantFrom('date', 'uuid') }),
    fc.record({
      properties: fc.dictionary(fc.constantFrom(...NAMES), sub, {
        maxKeys: 3,
        noNullPrototype: true,
      }),
    }),
    fc.record({ required: fc.subarray(NAMES, { maxLength: 3 }) }),
    fc.record({ additionalProperties: sub }),
    fc.record({
      patternProperties: fc.dictionary(fc.constantFrom(...PATTERNS), sub, {
        maxKeys: 2,
        noNullPrototype: true,
      }),
    }),
    fc.record({ propertyNames: sub }),
    fc.record({ minProperties: bound }),
    fc.record({ maxProperties: bound }),
    fc.record({ minItems: bound }),
    fc.record({ maxItems: bound }),
    fc.record({ uniqueItems: fc.boolean() }),
    fc.record({ contains: sub }),
    fc.record({ anyOf: fc.array(sub, { minLength: 1, maxLength: 3 }) }),
    fc.record({ oneOf: fc.array(sub, { minLength: 1, maxLength: 3 }) }),
    fc.record({ allOf: fc.array(sub, { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: sub }),
  ];
  const dependentRequired = fc.dictionary(
    fc.constantFrom(...NAMES),
    fc.subarray(NAMES, { minLength: 1, maxLength: 2 }),
    { minKeys: 1, maxKeys: 2, noNullPrototype: true },
  );
  const dependentSchemas = fc.dictionary(fc.constantFrom(...NAMES), sub, {
    minKeys: 1,
    maxKeys: 2,
    noNullPrototype: true,
  });
  if (draft === 'draft-07') {
    return [
      ...common,
      fc.record({ items: fc.oneof(sub, fc.array(sub, { minLength: 1, maxLength: 2 })) }),
      fc.record({ additionalItems: sub }),
      fc.record({ dependencies: fc.oneof(dependentRequired, dependentSchemas) }),
    ];
  }
  return [
    ...common,
    fc.record({ items: sub }),
    fc.record({ prefixItems: fc.array(sub, { minLength: 1, maxLength: 2 }) }),
    fc.record({ dependentRequired }),
    fc.record({ dependentSchemas }),
    fc.record({ minContains: bound }),
    fc.record({ maxContains: bound }),
    fc.record({ unevaluatedProperties: sub }),
    fc.record({ unevaluatedItems: sub }),
  ];
}

/** A random schema of a draft: booleans, or objects of one to three keywords, nested. */
export function schemaArb(draft: Draft): fc.Arbitrary<JsonSchema> {
  return fc.letrec<{ schema: JsonSchema }>((tie) => ({
    schema: fc.oneof(
      { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
      fc.boolean(),
      fc
        .array(fc.oneof(...keywordArbs(draft, tie('schema'))), { minLength: 1, maxLength: 3 })
        .map((parts) => Object.assign({}, ...parts) as JsonObject),
    ),
  })).schema;
}

/** One edit of a schema: a keyword added, removed or replaced, here or in a subschema. */
export interface SchemaEdit {
  /** Which subschema the edit lands in, counted over the schema's subschemas in order. */
  at: number;
  kind: 'add' | 'remove' | 'replace';
  /** Keywords to add or to replace with. */
  keywords: JsonObject;
  /** Which existing keyword to remove or replace, counted over its keywords. */
  which: number;
}

export function editArb(draft: Draft): fc.Arbitrary<SchemaEdit> {
  return fc.record({
    at: fc.nat(20),
    kind: fc.constantFrom('add', 'remove', 'replace'),
    keywords: fc.oneof(...keywordArbs(draft, schemaArb(draft))),
    which: fc.nat(5),
  });
}

/** Every object subschema of a schema, itself first, in a fixed order. */
function subschemas(schema: JsonSchema): JsonObject[] {
  if (typeof schema === 'boolean') return [];
  const children: unknown[] = [];
  for (const [keyword, value] of Object.entries(schema)) {
    const listed = keyword === 'items' || SCHEMA_LIST_KEYWORDS.includes(keyword);
    if (listed && Array.isArray(value)) children.push(...value);
    else if (keyword === 'items' || SCHEMA_KEYWORDS.includes(keyword)) children.push(value);
    const mapped = keyword === 'dependencies' || SCHEMA_MAP_KEYWORDS.includes(keyword);
    if (mapped && typeof value === 'object' && value !== null) {
      children.push(...Object.values(value).filter((child) => !Array.isArray(child)));
    }
  }
  return [
    schema,
    ...children.flatMap((child) =>
      typeof child === 'object' && child !== null ? subschemas(child as JsonObject) : [],
    ),
  ];
}

/** The schema with the edits applied (a copy; the schema itself is not changed). */
export function applyEdits(schema: JsonSchema, edits: readonly SchemaEdit[]): JsonSchema {
  let result: JsonSchema = structuredClone(schema);
  for (const edit of edits) {
    if (typeof result === 'boolean') result = {};
    const targets = subschemas(result);
    const target = targets[edit.at % targets.length] as JsonObject;
    const keys = Object.keys(target);
    const existing = keys.length > 0 ? keys[edit.which % keys.length] : undefined;
    if (edit.kind !== 'add' && existing !== undefined) delete target[existing];
    if (edit.kind !== 'remove') Object.assign(target, structuredClone(edit.keywords));
  }
  return result;
}

/** A schema as a document of its draft. */
export function asDocument(schema: JsonSchema, draft: Draft): JsonSchema {
  if (typeof schema === 'boolean') return { $schema: DRAFT_URIS[draft], allOf: [schema] };
  return { $schema: DRAFT_URIS[draft], ...schema };
}

/**
 * Whether a schema has `contains` beside positional items somewhere. Ajv 8.20 accepts `[]` under
 * `{"contains": {"type": "string"}, "prefixItems": [{"type": "null"}]}` (and the draft-07
 * spelling), which no array satisfies: the checker's verdicts on such schemas cannot be judged
 * by it.
 */
export function hasContainsBesideTuple(schema: JsonSchema): boolean {
  return subschemas(schema).some(
    (each) =>
      Object.hasOwn(each, 'contains') &&
      (Array.isArray(each.prefixItems) || Array.isArray(each.items)),
  );
}
