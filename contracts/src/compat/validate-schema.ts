import { childPointer, isJsonObject, isSchema, resolveLocalRef } from './json';
import { type Draft, draftOf, DRAFT_URIS, keywordsNotIn } from './drafts';
import { JSON_TYPES, SCHEMA_KEYWORDS, SCHEMA_LIST_KEYWORDS, SCHEMA_MAP_KEYWORDS } from './keywords';
import type { JsonObject, JsonSchema, SchemaProblem } from './types';

const NON_NEGATIVE_INTEGERS = [
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minContains',
  'maxContains',
];
const NUMBERS = ['minimum', 'maximum'];
const STRINGS = ['pattern', 'format', '$ref', '$id', '$schema', '$anchor'];
const BOOLEANS = ['uniqueItems'];

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

function unknownType(value: unknown): string {
  const suggestion =
    typeof value === 'string'
      ? JSON_TYPES.find((type) => distance(type, value.toLowerCase()) <= 2)
      : undefined;
  return (
    `unknown type ${JSON.stringify(value)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}: ` +
    `expected one of ${JSON_TYPES.join(', ')}`
  );
}

function invalidPattern(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function validateNode(
  schema: unknown,
  pointer: string,
  root: JsonSchema,
  problems: SchemaProblem[],
  draft: Draft | undefined,
): void {
  const problem = (at: string, message: string) => problems.push({ pointer: at, message });
  if (typeof schema === 'boolean') return;
  if (!isJsonObject(schema)) {
    problem(pointer, `a schema is an object or a boolean, not ${kindOf(schema)}`);
    return;
  }
  const at = (keyword: string) => childPointer(pointer, keyword);

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (Array.isArray(schema.type) && types.length === 0) {
      problem(at('type'), 'an array of types must not be empty');
    }
    types.forEach((type, index) => {
      const where = Array.isArray(schema.type) ? childPointer(at('type'), index) : at('type');
      if (typeof type !== 'string' || !JSON_TYPES.includes(type)) problem(where, unknownType(type));
      else if (types.indexOf(type) !== index) problem(where, `type "${type}" is listed twice`);
    });
  }
  for (const keyword of NON_NEGATIVE_INTEGERS) {
    const value = schema[keyword];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) {
      problem(
        at(keyword),
        `${keyword} must be a non-negative integer, not ${JSON.stringify(value)}`,
      );
    }
  }
  for (const keyword of NUMBERS) {
    if (schema[keyword] !== undefined && typeof schema[keyword] !== 'number') {
      problem(at(keyword), `${keyword} must be a number, not ${kindOf(schema[keyword])}`);
    }
  }
  for (const keyword of ['exclusiveMinimum', 'exclusiveMaximum']) {
    // A boolean is the draft-04 spelling, still met in older documents.
    const value = schema[keyword];
    if (value !== undefined && typeof value !== 'number' && typeof value !== 'boolean') {
      problem(at(keyword), `${keyword} must be a number, not ${kindOf(value)}`);
    }
  }
  if (
    schema.multipleOf !== undefined &&
    !(typeof schema.multipleOf === 'number' && schema.multipleOf > 0)
  ) {
    problem(at('multipleOf'), 'multipleOf must be a number greater than 0');
  }
  for (const keyword of STRINGS) {
    if (schema[keyword] !== undefined && typeof schema[keyword] !== 'string') {
      problem(at(keyword), `${keyword} must be a string, not ${kindOf(schema[keyword])}`);
    }
  }
  for (const keyword of BOOLEANS) {
    if (schema[keyword] !== undefined && typeof schema[keyword] !== 'boolean') {
      problem(at(keyword), `${keyword} must be a boolean, not ${kindOf(schema[keyword])}`);
    }
  }
  if (typeof schema.pattern === 'string') {
    const error = invalidPattern(schema.pattern);
    if (error) problem(at('pattern'), `pattern is not a valid regular expression: ${error}`);
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) {
    problem(at('enum'), `enum must be an array, not ${kindOf(schema.enum)}`);
  }
  if (schema.required !== undefined) {
    const required = schema.required;
    if (!Array.isArray(required) || required.some((name) => typeof name !== 'string')) {
      problem(at('required'), 'required must be an array of property names');
    } else if (new Set(required).size !== required.length) {
      problem(at('required'), 'required lists a property twice');
    }
  }
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#')) {
    if (resolveLocalRef(root, schema.$ref) === undefined) {
      problem(at('$ref'), `$ref ${JSON.stringify(schema.$ref)} points to nothing in this document`);
    }
  }

  for (const keyword of SCHEMA_KEYWORDS) {
    if (schema[keyword] !== undefined)
      validateNode(schema[keyword], at(keyword), root, problems, draft);
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (map === undefined) continue;
    if (!isJsonObject(map)) {
      problem(at(keyword), `${keyword} must be an object of schemas, not ${kindOf(map)}`);
      continue;
    }
    for (const [name, value] of Object.entries(map)) {
      const where = childPointer(at(keyword), name);
      if (keyword === 'patternProperties') {
        const error = invalidPattern(name);
        if (error)
          problem(where, `${JSON.stringify(name)} is not a valid regular expression: ${error}`);
      }
      validateNode(value, where, root, problems, draft);
    }
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const list = schema[keyword];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) {
      problem(at(keyword), `${keyword} must be a non-empty array of schemas`);
      continue;
    }
    list.forEach((value, index) =>
      validateNode(value, childPointer(at(keyword), index), root, problems, draft),
    );
  }
  if (schema.items !== undefined) {
    // An array of schemas is the draft-07 spelling of prefixItems.
    if (Array.isArray(schema.items)) {
      schema.items.forEach((value, index) =>
        validateNode(value, childPointer(at('items'), index), root, problems, draft),
      );
    } else {
      validateNode(schema.items, at('items'), root, problems, draft);
    }
  }
  validateDependencies(schema, at, root, problems, draft);
  if (draft !== undefined) {
    for (const { keyword, message } of keywordsNotIn(draft, schema)) problem(at(keyword), message);
  }
}

/** `dependencies` (draft 7: a list of names or a schema per name) and `dependentRequired`. */
function validateDependencies(
  schema: JsonObject,
  at: (keyword: string) => string,
  root: JsonSchema,
  problems: SchemaProblem[],
  draft: Draft | undefined,
): void {
  for (const keyword of ['dependencies', 'dependentRequired']) {
    const map = schema[keyword];
    if (map === undefined) continue;
    if (!isJsonObject(map)) {
      problems.push({ pointer: at(keyword), message: `${keyword} must be an object` });
      continue;
    }
    for (const [name, value] of Object.entries(map)) {
      const where = childPointer(at(keyword), name);
      if (Array.isArray(value)) {
        if (value.some((item) => typeof item !== 'string')) {
          problems.push({ pointer: where, message: `${keyword} lists property names only` });
        }
      } else if (keyword === 'dependencies') {
        validateNode(value, where, root, problems, draft);
      } else {
        problems.push({ pointer: where, message: 'dependentRequired lists property names' });
      }
    }
  }
}

/**
 * Why a document is not a JSON Schema the checker can compare, each with the JSON pointer of
 * the offending keyword: a root that is not an object or boolean, unknown types, keyword values
 * of the wrong kind, invalid regular expressions, same-document `$ref`s that point nowhere.
 * Empty when the document is fine. Unknown keywords are allowed, as JSON Schema allows them, but
 * not a keyword of another draft than the document's `$schema` names (validators of its draft
 * would silently ignore it), nor a `$schema` of a draft the checker does not know.
 */
export function validateJsonSchema(document: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const draft = draftOf(document);
  if (draft === 'unknown') {
    const known = Object.keys(DRAFT_URIS).join(', ');
    problems.push({
      pointer: '/$schema',
      message: `$schema ${JSON.stringify((document as JsonObject).$schema)} is not a draft the checker knows (${known})`,
    });
  }
  const read = draft === 'unknown' ? undefined : draft;
  validateNode(document, '', isSchema(document) ? document : true, problems, read);
  return problems;
}
