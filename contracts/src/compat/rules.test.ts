import { describe, expect, it } from 'vitest';
import { DRAFT_URIS } from './drafts';
import { checkCompatibility, COMPATIBILITY_MODES, SCHEMA_CHANGE_RULES } from './index';
import { validateJsonSchema } from './validate-schema';
import type { JsonSchema, SchemaChangeRule } from './types';

/**
 * One rule, exercised both ways: `previous -> next` must report exactly `rule` at `pointer` with
 * the given flags, and `next -> previous` exactly `reverse` with the flags swapped.
 */
interface RuleCase {
  name: string;
  previous: JsonSchema;
  next: JsonSchema;
  rule: SchemaChangeRule;
  pointer: string;
  breaksBackward: boolean;
  breaksForward: boolean;
  reverse: SchemaChangeRule;
  reversePointer?: string;
}

const str = { type: 'string' };
const int = { type: 'integer' };
const closed = (properties: Record<string, JsonSchema>, extra: object = {}) => ({
  type: 'object',
  properties,
  additionalProperties: false,
  ...extra,
});
const open = (properties: Record<string, JsonSchema>, extra: object = {}) => ({
  type: 'object',
  properties,
  ...extra,
});
const numberWith = (keywords: object) => ({ type: 'number', ...keywords });
const stringWith = (keywords: object) => ({ type: 'string', ...keywords });
const arrayWith = (keywords: object) => ({ type: 'array', ...keywords });

const CASES: RuleCase[] = [
  // types
  {
    name: 'a nullable string made non-nullable',
    previous: { type: ['string', 'null'] },
    next: str,
    rule: 'TYPE_NARROWED',
    pointer: '/type',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'TYPE_WIDENED',
  },
  {
    name: 'integer widened to number',
    previous: int,
    next: { type: 'number' },
    rule: 'TYPE_WIDENED',
    pointer: '/type',
    breaksBackward: false,
    breaksForward: true,
    reverse: 'TYPE_NARROWED',
  },
  {
    name: 'string changed to integer',
    previous: str,
    next: int,
    rule: 'TYPE_CHANGED',
    pointer: '/type',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'TYPE_CHANGED',
  },
  // enum and const
  {
    name: 'an enum value added',
    previous: stringWith({ enum: ['web', 'app'] }),
    next: stringWith({ enum: ['web', 'app', 'store'] }),
    rule: 'ENUM_VALUE_ADDED',
    pointer: '/enum',
    breaksBackward: false,
    breaksForward: true,
    reverse: 'ENUM_VALUE_REMOVED',
  },
  {
    name: 'an enum added to a free string',
    previous: str,
    next: stringWith({ enum: ['web', 'app'] }),
    rule: 'ENUM_ADDED',
    pointer: '/enum',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'ENUM_REMOVED',
  },
  {
    name: 'a const added',
    previous: str,
    next: stringWith({ const: 'web' }),
    rule: 'CONST_ADDED',
    pointer: '/const',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'CONST_REMOVED',
  },
  {
    name: 'a const changed',
    previous: stringWith({ const: 'web' }),
    next: stringWith({ const: 'app' }),
    rule: 'CONST_CHANGED',
    pointer: '/const',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'CONST_CHANGED',
  },
  // numeric bounds
  ...(
    [
      ['minimum', 'MINIMUM', true],
      ['exclusiveMinimum', 'EXCLUSIVE_MINIMUM', true],
      ['maximum', 'MAXIMUM', false],
      ['exclusiveMaximum', 'EXCLUSIVE_MAXIMUM', false],
      ['minLength', 'MIN_LENGTH', true],
      ['maxLength', 'MAX_LENGTH', false],
      ['minItems', 'MIN_ITEMS', true],
      ['maxItems', 'MAX_ITEMS', false],
      ['minProperties', 'MIN_PROPERTIES', true],
      ['maxProperties', 'MAX_PROPERTIES', false],
    ] as const
  ).flatMap(([keyword, prefix, lower]): RuleCase[] => {
    const base = keyword.endsWith('Length')
      ? str
      : keyword.endsWith('Items')
        ? { type: 'array' }
        : keyword.endsWith('Properties')
          ? { type: 'object' }
          : { type: 'number' };
    return [
      {
        name: `${keyword} added`,
        previous: base,
        next: { ...base, [keyword]: 5 },
        rule: `${prefix}_ADDED`,
        pointer: `/${keyword}`,
        breaksBackward: true,
        breaksForward: false,
        reverse: `${prefix}_REMOVED`,
      },
      {
        name: `${keyword} raised`,
        previous: { ...base, [keyword]: 5 },
        next: { ...base, [keyword]: 8 },
        rule: `${prefix}_INCREASED`,
        pointer: `/${keyword}`,
        breaksBackward: lower,
        breaksForward: !lower,
        reverse: `${prefix}_DECREASED`,
      },
    ];
  }),
  {
    name: 'multipleOf added',
    previous: int,
    next: { ...int, multipleOf: 5 },
    rule: 'MULTIPLE_OF_ADDED',
    pointer: '/multipleOf',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'MULTIPLE_OF_REMOVED',
  },
  {
    name: 'multipleOf made a multiple of itself (coarser)',
    previous: numberWith({ multipleOf: 0.01 }),
    next: numberWith({ multipleOf: 0.05 }),
    rule: 'MULTIPLE_OF_CHANGED',
    pointer: '/multipleOf',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'MULTIPLE_OF_CHANGED',
  },
  {
    name: 'multipleOf changed to an unrelated step',
    previous: numberWith({ multipleOf: 2 }),
    next: numberWith({ multipleOf: 3 }),
    rule: 'MULTIPLE_OF_CHANGED',
    pointer: '/multipleOf',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'MULTIPLE_OF_CHANGED',
  },
  // string shape
  {
    name: 'a pattern added',
    previous: str,
    next: stringWith({ pattern: '^[A-Z]{3}$' }),
    rule: 'PATTERN_ADDED',
    pointer: '/pattern',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'PATTERN_REMOVED',
  },
  {
    name: 'a pattern changed (never guessed: both ways)',
    previous: stringWith({ pattern: '^[A-Z]{3}$' }),
    next: stringWith({ pattern: '^[A-Z]{2,3}$' }),
    rule: 'PATTERN_CHANGED',
    pointer: '/pattern',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'PATTERN_CHANGED',
  },
  {
    name: 'a format added',
    previous: str,
    next: stringWith({ format: 'uuid' }),
    rule: 'FORMAT_ADDED',
    pointer: '/format',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'FORMAT_REMOVED',
  },
  {
    name: 'a format changed',
    previous: stringWith({ format: 'date' }),
    next: stringWith({ format: 'date-time' }),
    rule: 'FORMAT_CHANGED',
    pointer: '/format',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'FORMAT_CHANGED',
  },
  // properties and content models
  {
    name: 'an optional property added to a closed content model',
    previous: closed({ id: str }),
    next: closed({ id: str, channel: str }),
    rule: 'PROPERTY_ADDED',
    pointer: '/properties/channel',
    breaksBackward: false,
    breaksForward: true,
    reverse: 'PROPERTY_REMOVED',
  },
  {
    name: 'a constrained property added to an open content model',
    previous: open({ id: str }),
    next: open({ id: str, channel: str }),
    rule: 'PROPERTY_ADDED',
    pointer: '/properties/channel',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'PROPERTY_REMOVED',
  },
  {
    name: 'an unconstrained property added to an open content model',
    previous: open({ id: str }),
    next: open({ id: str, note: {} }),
    rule: 'PROPERTY_ADDED',
    pointer: '/properties/note',
    breaksBackward: false,
    breaksForward: false,
    reverse: 'PROPERTY_REMOVED',
  },
  {
    name: 'a property added that a partially open model already covered',
    previous: open({ id: str }, { additionalProperties: str }),
    next: open({ id: str, channel: str }, { additionalProperties: str }),
    rule: 'PROPERTY_ADDED',
    pointer: '/properties/channel',
    breaksBackward: false,
    breaksForward: false,
    reverse: 'PROPERTY_REMOVED',
  },
  {
    name: 'a property added narrower than a partially open model allowed',
    previous: open({ id: str }, { additionalProperties: str }),
    next: open({ id: str, channel: stringWith({ maxLength: 5 }) }, { additionalProperties: str }),
    rule: 'PROPERTY_ADDED',
    pointer: '/properties/channel',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'PROPERTY_REMOVED',
  },
  {
    name: 'a property made required',
    previous: open({ id: str }),
    next: open({ id: str }, { required: ['id'] }),
    rule: 'REQUIRED_ADDED',
    pointer: '/required',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'REQUIRED_REMOVED',
  },
  {
    name: 'an open content model closed',
    previous: open({ id: str }),
    next: closed({ id: str }),
    rule: 'ADDITIONAL_PROPERTIES_CLOSED',
    pointer: '/additionalProperties',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'ADDITIONAL_PROPERTIES_OPENED',
  },
  {
    name: 'an open content model restricted to string values',
    previous: open({ id: str }),
    next: open({ id: str }, { additionalProperties: str }),
    rule: 'ADDITIONAL_PROPERTIES_RESTRICTED',
    pointer: '/additionalProperties',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'ADDITIONAL_PROPERTIES_RELAXED',
  },
  {
    name: 'patternProperties added to an open content model',
    previous: open({ id: str }),
    next: open({ id: str }, { patternProperties: { '^x-': str } }),
    rule: 'PATTERN_PROPERTY_ADDED',
    pointer: '/patternProperties/^x-',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'PATTERN_PROPERTY_REMOVED',
  },
  {
    name: 'patternProperties added to a closed content model',
    previous: closed({ id: str }),
    next: closed({ id: str }, { patternProperties: { '^x-': str } }),
    rule: 'PATTERN_PROPERTY_ADDED',
    pointer: '/patternProperties/^x-',
    breaksBackward: false,
    breaksForward: true,
    reverse: 'PATTERN_PROPERTY_REMOVED',
  },
  {
    name: 'a dependency added (draft 7, a list of names)',
    previous: open({ card: str, billing: str }),
    next: open({ card: str, billing: str }, { dependencies: { card: ['billing'] } }),
    rule: 'DEPENDENCY_ADDED',
    pointer: '/dependencies/card',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'DEPENDENCY_REMOVED',
  },
  {
    name: 'a name added to a dependency (dependentRequired)',
    previous: open({ card: str, billing: str }, { dependentRequired: { card: ['billing'] } }),
    next: open({ card: str, billing: str }, { dependentRequired: { card: ['billing', 'cvc'] } }),
    rule: 'DEPENDENCY_ADDED',
    pointer: '/dependentRequired/card',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'DEPENDENCY_REMOVED',
  },
  {
    name: 'a dependent schema added (dependentSchemas)',
    previous: open({ card: str }),
    next: open({ card: str }, { dependentSchemas: { card: { required: ['billing'] } } }),
    rule: 'DEPENDENCY_ADDED',
    pointer: '/dependentSchemas/card',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'DEPENDENCY_REMOVED',
  },
  {
    name: 'a dependent schema narrowed (draft 7 dependencies, schema form)',
    previous: open({ card: str }, { dependencies: { card: { maxProperties: 5 } } }),
    next: open({ card: str }, { dependencies: { card: { maxProperties: 3 } } }),
    rule: 'MAX_PROPERTIES_DECREASED',
    pointer: '/dependencies/card/maxProperties',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'MAX_PROPERTIES_INCREASED',
  },
  {
    name: 'unevaluatedProperties closing an object with nothing applied in place (2020-12)',
    previous: open({ id: str }),
    next: open({ id: str }, { unevaluatedProperties: false }),
    rule: 'ADDITIONAL_PROPERTIES_CLOSED',
    pointer: '/additionalProperties',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'ADDITIONAL_PROPERTIES_OPENED',
  },
  // arrays
  {
    name: 'a positional item added where any item was allowed',
    previous: arrayWith({ prefixItems: [str] }),
    next: arrayWith({ prefixItems: [str, int] }),
    rule: 'PREFIX_ITEM_ADDED',
    pointer: '/prefixItems/1',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'PREFIX_ITEM_REMOVED',
  },
  {
    name: 'a positional item added to a closed tuple',
    previous: arrayWith({ prefixItems: [str], items: false }),
    next: arrayWith({ prefixItems: [str, int], items: false }),
    rule: 'PREFIX_ITEM_ADDED',
    pointer: '/prefixItems/1',
    breaksBackward: false,
    breaksForward: true,
    reverse: 'PREFIX_ITEM_REMOVED',
  },
  {
    name: 'unevaluatedItems closing a tuple with nothing applied in place (2020-12)',
    previous: arrayWith({ prefixItems: [str] }),
    next: arrayWith({ prefixItems: [str], unevaluatedItems: false }),
    rule: 'FALSE_SCHEMA_ADDED',
    pointer: '/items',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'FALSE_SCHEMA_REMOVED',
  },
  {
    name: 'additionalItems closed without positional items (as Schema Registry judges it)',
    previous: { additionalItems: true },
    next: { additionalItems: false },
    rule: 'FALSE_SCHEMA_ADDED',
    pointer: '/additionalItems',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'FALSE_SCHEMA_REMOVED',
  },
  {
    name: 'additionalItems closed after a draft-07 tuple',
    previous: arrayWith({ items: [str] }),
    next: arrayWith({ items: [str], additionalItems: false }),
    rule: 'FALSE_SCHEMA_ADDED',
    pointer: '/additionalItems',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'FALSE_SCHEMA_REMOVED',
  },
  {
    name: 'minContains raised',
    previous: arrayWith({ contains: str }),
    next: arrayWith({ contains: str, minContains: 2 }),
    rule: 'MIN_CONTAINS_INCREASED',
    pointer: '/minContains',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'MIN_CONTAINS_DECREASED',
  },
  {
    name: 'maxContains lowered',
    previous: arrayWith({ contains: str, maxContains: 3 }),
    next: arrayWith({ contains: str, maxContains: 2 }),
    rule: 'MAX_CONTAINS_DECREASED',
    pointer: '/maxContains',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'MAX_CONTAINS_INCREASED',
  },
  {
    name: 'items made unique',
    previous: arrayWith({ items: str }),
    next: arrayWith({ items: str, uniqueItems: true }),
    rule: 'UNIQUE_ITEMS_ADDED',
    pointer: '/uniqueItems',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'UNIQUE_ITEMS_REMOVED',
  },
  // combined schemas
  {
    name: 'an anyOf branch added',
    previous: { anyOf: [str, int] },
    next: { anyOf: [str, int, { type: 'null' }] },
    rule: 'ANY_OF_BRANCH_ADDED',
    pointer: '/anyOf/2',
    breaksBackward: false,
    breaksForward: true,
    reverse: 'ANY_OF_BRANCH_REMOVED',
  },
  {
    name: 'a oneOf branch added, disjoint from the others',
    previous: { oneOf: [str, int] },
    next: { oneOf: [str, int, { type: 'null' }] },
    rule: 'ONE_OF_BRANCH_ADDED',
    pointer: '/oneOf/2',
    breaksBackward: false,
    breaksForward: true,
    reverse: 'ONE_OF_BRANCH_REMOVED',
  },
  {
    name: 'a oneOf branch added that overlaps another (data may now match two)',
    previous: { oneOf: [stringWith({ maxLength: 5 }), int] },
    next: { oneOf: [stringWith({ maxLength: 5 }), int, stringWith({ pattern: '^a' })] },
    rule: 'ONE_OF_BRANCH_ADDED',
    pointer: '/oneOf/2',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'ONE_OF_BRANCH_REMOVED',
  },
  {
    name: 'an allOf member added',
    previous: { allOf: [str, { maxLength: 5 }] },
    next: { allOf: [str, { maxLength: 5 }, { pattern: '^a' }] },
    rule: 'ALL_OF_MEMBER_ADDED',
    pointer: '/allOf/2',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'ALL_OF_MEMBER_REMOVED',
  },
  {
    name: 'an anyOf added beside other keywords',
    previous: stringWith({ maxLength: 10 }),
    next: stringWith({ maxLength: 10, anyOf: [{ pattern: '^a' }, { pattern: '^b' }] }),
    rule: 'KEYWORD_ADDED',
    pointer: '/anyOf',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'KEYWORD_REMOVED',
  },
  {
    name: 'an if/then condition changed',
    previous: { if: str, then: { maxLength: 5 } },
    next: { if: str, then: { maxLength: 3 } },
    rule: 'KEYWORD_CHANGED',
    pointer: '/then',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'KEYWORD_CHANGED',
  },
  // boolean schemas and references
  {
    name: 'a property forbidden with a false schema',
    previous: open({ legacy: str }),
    next: open({ legacy: false }),
    rule: 'FALSE_SCHEMA_ADDED',
    pointer: '/properties/legacy',
    breaksBackward: true,
    breaksForward: false,
    reverse: 'FALSE_SCHEMA_REMOVED',
  },
  {
    name: 'a reference to another document (not followed)',
    previous: str,
    next: { $ref: 'https://example.com/currency.json' },
    rule: 'REF_UNRESOLVED',
    pointer: '',
    breaksBackward: true,
    breaksForward: true,
    reverse: 'REF_UNRESOLVED',
  },
];

/**
 * The case as documents of each draft whose keywords both sides use (the `$schema` at the root
 * changes no pointer), and without `$schema`.
 */
function inEveryDraft(ruleCase: RuleCase): RuleCase[] {
  const asDraft = (schema: JsonSchema, uri: string): JsonSchema =>
    typeof schema === 'boolean' ? schema : { $schema: uri, ...schema };
  const drafts = Object.values(DRAFT_URIS)
    .map((uri) => ({
      ...ruleCase,
      name: `${ruleCase.name} (${uri})`,
      previous: asDraft(ruleCase.previous, uri),
      next: asDraft(ruleCase.next, uri),
    }))
    .filter(
      (each) =>
        validateJsonSchema(each.previous).length === 0 &&
        validateJsonSchema(each.next).length === 0,
    );
  return [ruleCase, ...drafts];
}

describe('every compatibility rule, both ways, under every mode', () => {
  it('has each case valid in draft 7 or 2020-12', () => {
    const valid = (schema: JsonSchema, uri: string) =>
      typeof schema === 'boolean' || validateJsonSchema({ $schema: uri, ...schema }).length === 0;
    const draftless = CASES.filter(
      (ruleCase) =>
        !['draft-07', '2020-12'].some((draft) => {
          const uri = DRAFT_URIS[draft as 'draft-07' | '2020-12'];
          return valid(ruleCase.previous, uri) && valid(ruleCase.next, uri);
        }),
    );
    expect(draftless.map((ruleCase) => ruleCase.name)).toEqual([]);
  });

  it.each(CASES.flatMap(inEveryDraft))('$name', (ruleCase) => {
    const forward = checkCompatibility(ruleCase.previous, ruleCase.next, 'NONE');
    expect(forward.changes).toEqual([
      expect.objectContaining({
        rule: ruleCase.rule,
        pointer: ruleCase.pointer,
        breaksBackward: ruleCase.breaksBackward,
        breaksForward: ruleCase.breaksForward,
        breaks: false,
      }),
    ]);
    const reversed = checkCompatibility(ruleCase.next, ruleCase.previous, 'NONE');
    expect(reversed.changes).toEqual([
      expect.objectContaining({
        rule: ruleCase.reverse,
        pointer: ruleCase.reversePointer ?? ruleCase.pointer,
        breaksBackward: ruleCase.breaksForward,
        breaksForward: ruleCase.breaksBackward,
      }),
    ]);
    for (const mode of COMPATIBILITY_MODES) {
      const breaks = mode.startsWith('BACKWARD')
        ? ruleCase.breaksBackward
        : mode.startsWith('FORWARD')
          ? ruleCase.breaksForward
          : mode.startsWith('FULL')
            ? ruleCase.breaksBackward || ruleCase.breaksForward
            : false;
      const report = checkCompatibility(ruleCase.previous, ruleCase.next, mode);
      expect({ mode, compatible: report.compatible }).toEqual({ mode, compatible: !breaks });
      expect(report.changes[0]?.breaks).toBe(breaks);
    }
  });

  it('exercises every rule the checker can report', () => {
    const exercised = new Set(CASES.flatMap((ruleCase) => [ruleCase.rule, ruleCase.reverse]));
    expect(SCHEMA_CHANGE_RULES.filter((rule) => !exercised.has(rule))).toEqual([]);
  });
});
