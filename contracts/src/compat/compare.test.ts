import { describe, expect, it } from 'vitest';
import { checkCompatibility } from './index';
import type { JsonSchema } from './types';

/** The changes between two schemas as `rule pointer N/W` lines (N breaks BACKWARD, W FORWARD). */
function changes(previous: JsonSchema, next: JsonSchema): string[] {
  return checkCompatibility(previous, next, 'NONE').changes.map(
    (change) =>
      `${change.rule} ${change.pointer || '/'} ${change.breaksBackward ? 'N' : '-'}${change.breaksForward ? 'W' : '-'}`,
  );
}

const str = { type: 'string' };

describe('nested objects and arrays', () => {
  const address = (zip: JsonSchema) => ({
    type: 'object',
    properties: {
      address: {
        type: 'object',
        properties: { zip, city: str },
        required: ['zip'],
        additionalProperties: false,
      },
      tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
    },
  });

  it('reports a change deep inside at its full pointer', () => {
    expect(
      changes(
        address({ type: 'string', maxLength: 10 }),
        address({ type: 'string', maxLength: 5 }),
      ),
    ).toEqual(['MAX_LENGTH_DECREASED /properties/address/properties/zip/maxLength N-']);
  });

  it('compares array items', () => {
    const before = address(str);
    const after = structuredClone(before);
    after.properties.tags.items.enum.push('c');
    expect(changes(before, after)).toEqual(['ENUM_VALUE_ADDED /properties/tags/items/enum -W']);
  });

  it('reads the draft-07 spelling of tuples', () => {
    expect(
      changes(
        { type: 'array', items: [str], additionalItems: false },
        { type: 'array', items: [str], additionalItems: { type: 'integer' } },
      ),
    ).toEqual(['FALSE_SCHEMA_REMOVED /additionalItems -W']);
  });

  it('ignores keywords that only annotate', () => {
    expect(
      changes(
        { type: 'string', title: 'a', description: 'b', examples: ['x'], 'x-owner': 'shop' },
        { type: 'string', title: 'c', deprecated: true, $comment: 'why' },
      ),
    ).toEqual([]);
  });

  it('skips keywords of a type neither side admits any more', () => {
    expect(
      changes({ type: ['string', 'null'], maxLength: 3 }, { type: 'null', maxLength: 5 }),
    ).toEqual(['TYPE_NARROWED /type N-']);
  });
});

describe('open and closed content models', () => {
  it('removing a property from a closed model rejects data that carries it', () => {
    expect(
      changes(
        { type: 'object', properties: { a: str, b: str }, additionalProperties: false },
        { type: 'object', properties: { a: str }, additionalProperties: false },
      ),
    ).toEqual(['PROPERTY_REMOVED /properties/b N-']);
  });

  it('removing a required property from a closed model breaks both ways', () => {
    expect(
      changes(
        { type: 'object', properties: { a: str }, required: ['a'], additionalProperties: false },
        { type: 'object', properties: {}, additionalProperties: false },
      ),
    ).toEqual(['PROPERTY_REMOVED /properties/a N-', 'REQUIRED_REMOVED /required -W']);
  });

  it('removing a property from an open model only widens', () => {
    expect(
      changes(
        { type: 'object', properties: { a: str, b: str } },
        { type: 'object', properties: { a: str } },
      ),
    ).toEqual(['PROPERTY_REMOVED /properties/b -W']);
  });

  it('a declared property is checked against the patternProperties it matches', () => {
    expect(
      changes(
        {
          type: 'object',
          properties: { x_a: str },
          patternProperties: { '^x_': { maxLength: 3 } },
        },
        {
          type: 'object',
          properties: { x_a: str },
          patternProperties: { '^x_': { maxLength: 2 } },
        },
      ),
    ).toEqual([
      'MAX_LENGTH_DECREASED /properties/x_a/allOf/1/maxLength N-',
      'MAX_LENGTH_DECREASED /patternProperties/^x_/maxLength N-',
    ]);
  });

  it('a property declared where a pattern already constrains it at least as much is no change', () => {
    const partlyOpen = (properties: object) => ({
      type: 'object',
      properties: { id: str, ...properties },
      patternProperties: { '^n_': { type: 'integer' } },
      additionalProperties: false,
    });
    expect(changes(partlyOpen({}), partlyOpen({ n_count: { type: 'number' } }))).toEqual([
      'PROPERTY_ADDED /properties/n_count --',
    ]);
    expect(changes(partlyOpen({}), partlyOpen({ n_count: { minimum: 0 } }))).toEqual([
      'PROPERTY_ADDED /properties/n_count N-',
    ]);
  });

  it('reads required as a set: reordered is no change, each name added or removed is one', () => {
    const object = (required: string[]) => ({ type: 'object', required });
    expect(changes(object(['a', 'b']), object(['b', 'a']))).toEqual([]);
    expect(changes(object(['a']), object(['b', 'a']))).toEqual(['REQUIRED_ADDED /required N-']);
    expect(changes(object(['a', 'b']), object(['b']))).toEqual(['REQUIRED_REMOVED /required -W']);
  });

  it('a property moved from properties to a matching pattern with the same schema is no change', () => {
    expect(
      changes(
        { type: 'object', properties: { x_a: str }, additionalProperties: false },
        { type: 'object', patternProperties: { '^x_': str }, additionalProperties: false },
      ),
    ).toEqual([
      'PROPERTY_REMOVED /properties/x_a --',
      'PATTERN_PROPERTY_ADDED /patternProperties/^x_ -W',
    ]);
  });
});

describe('type unions and combined schemas', () => {
  it('sees a nullable zod field (anyOf with null) as one branch added', () => {
    const channel = { type: 'string', enum: ['web', 'app'] };
    expect(changes(channel, { anyOf: [channel, { type: 'null' }] })).toEqual([
      'ANY_OF_BRANCH_ADDED /anyOf/1 -W',
    ]);
  });

  it('treats ["string","null"] and anyOf[string, null] as the same', () => {
    expect(
      changes({ type: ['string', 'null'] }, { anyOf: [{ type: 'string' }, { type: 'null' }] }),
    ).toEqual([]);
  });

  it('does not count an anyOf branch removed when another branch covers it', () => {
    expect(
      changes(
        { anyOf: [{ type: 'string', maxLength: 5 }, str] },
        { anyOf: [str, { type: 'null' }] },
      ),
    ).toEqual(['ANY_OF_BRANCH_ADDED /anyOf/1 -W', 'ANY_OF_BRANCH_REMOVED /anyOf/0 --']);
  });

  it('pairs a changed branch with its counterpart and compares inside it', () => {
    expect(
      changes(
        { anyOf: [{ type: 'string', enum: ['a'] }, { type: 'null' }] },
        { anyOf: [{ type: 'string', enum: ['a', 'b'] }, { type: 'null' }] },
      ),
    ).toEqual(['ENUM_VALUE_ADDED /anyOf/0/enum -W']);
  });

  it('knows oneOf branches with distinct discriminator values are disjoint', () => {
    const variant = (kind: string) => ({
      type: 'object',
      properties: { kind: { const: kind } },
      required: ['kind'],
    });
    expect(
      changes(
        { oneOf: [variant('a'), variant('b')] },
        { oneOf: [variant('a'), variant('b'), variant('c')] },
      ),
    ).toEqual(['ONE_OF_BRANCH_ADDED /oneOf/2 -W']);
  });

  it('takes a change inside overlapping oneOf branches as breaking both ways', () => {
    expect(
      changes(
        {
          oneOf: [
            { type: 'string', maxLength: 5 },
            { type: 'string', pattern: '^a' },
          ],
        },
        {
          oneOf: [
            { type: 'string', maxLength: 8 },
            { type: 'string', pattern: '^a' },
          ],
        },
      ),
    ).toEqual(['MAX_LENGTH_INCREASED /oneOf/0/maxLength NW']);
  });

  it('turns the comparison inside out under not', () => {
    expect(changes({ not: { type: 'string' } }, { not: { type: ['string', 'null'] } })).toEqual([
      'TYPE_WIDENED /not/type N-',
    ]);
  });

  it('judges a new constraint exactly when the previous schema only allowed a few values', () => {
    expect(
      changes({ type: 'string', enum: ['EUR', 'USD'] }, { type: 'string', pattern: '^[A-Z]{3}$' }),
    ).toEqual(['ENUM_REMOVED /enum -W', 'PATTERN_ADDED /pattern --']);
  });
});

describe('boolean schemas', () => {
  it('true and {} accept everything alike', () => {
    expect(changes(true, {})).toEqual([]);
  });

  it('true to false rejects everything', () => {
    expect(changes(true, false)).toEqual(['FALSE_SCHEMA_ADDED / N-']);
  });

  it('a constraint added to true narrows', () => {
    expect(changes(true, { type: 'string' })).toEqual(['TYPE_NARROWED /type N-']);
  });
});

describe('references', () => {
  const withDefinition = (currency: JsonSchema) => ({
    $defs: { currency },
    type: 'object',
    properties: { price: { $ref: '#/$defs/currency' }, fee: { $ref: '#/$defs/currency' } },
  });

  it('follows local $refs into $defs', () => {
    expect(
      changes(
        withDefinition({ type: 'string', maxLength: 3 }),
        withDefinition({ type: 'string', maxLength: 2 }),
      ),
    ).toEqual([
      'MAX_LENGTH_DECREASED /properties/price/maxLength N-',
      'MAX_LENGTH_DECREASED /properties/fee/maxLength N-',
    ]);
  });

  it('compares a $ref with the same schema written inline as equal', () => {
    expect(
      changes(withDefinition(str), { type: 'object', properties: { price: str, fee: str } }),
    ).toEqual([]);
  });

  it('applies keywords beside a $ref', () => {
    expect(
      changes(
        { $defs: { code: str }, $ref: '#/$defs/code' },
        { $defs: { code: str }, $ref: '#/$defs/code', maxLength: 3 },
      ),
    ).toEqual(['ALL_OF_MEMBER_ADDED /allOf/1 N-']);
  });

  const tree = (value: JsonSchema): JsonSchema => ({
    $defs: {
      node: {
        type: 'object',
        properties: { value, children: { type: 'array', items: { $ref: '#/$defs/node' } } },
      },
    },
    $ref: '#/$defs/node',
  });

  it('ends on recursive schemas and still finds the change', () => {
    expect(changes(tree({ type: 'integer' }), tree({ type: 'integer' }))).toEqual([]);
    expect(changes(tree({ type: 'integer' }), tree({ type: 'number' }))).toEqual([
      'TYPE_WIDENED /properties/value/type -W',
    ]);
  });

  it('ends when a recursive schema meets a finite one', () => {
    const finite = {
      type: 'object',
      properties: { value: { type: 'integer' }, children: { type: 'array' } },
    };
    expect(changes(tree({ type: 'integer' }), finite)).toEqual([
      'TYPE_WIDENED /properties/children/items/type -W',
      'PROPERTY_REMOVED /properties/children/items/properties/value -W',
      'PROPERTY_REMOVED /properties/children/items/properties/children -W',
    ]);
  });

  it('reports a reference it cannot follow as breaking both ways', () => {
    expect(changes({ $ref: '#/$defs/missing' }, str)).toEqual(['REF_UNRESOLVED / NW']);
  });
});

describe('keywords that depend on their neighbours', () => {
  const allOfProperty = (name: string) => ({ allOf: [{ properties: { [name]: str } }] });

  it('takes unevaluatedProperties beside a changed allOf as breaking both ways', () => {
    const previous = { type: 'object', unevaluatedProperties: false, ...allOfProperty('a') };
    const next = { type: 'object', unevaluatedProperties: false, ...allOfProperty('b') };
    expect(changes(previous, next)).toContain('KEYWORD_CHANGED /unevaluatedProperties NW');
    expect(checkCompatibility(previous, next, 'BACKWARD').compatible).toBe(false);
    expect(checkCompatibility(previous, next, 'FORWARD').compatible).toBe(false);
  });

  it('sees a positional item added beside unevaluatedItems false as accepting more', () => {
    expect(
      changes(
        { unevaluatedItems: false },
        { unevaluatedItems: false, prefixItems: [{ format: 'date' }] },
      ),
    ).toEqual(['PREFIX_ITEM_ADDED /prefixItems/0 -W']);
  });

  it('reads const and enum together as the values both allow', () => {
    expect(changes({ const: 'a' }, { const: 'a', enum: ['b'] })).toEqual([
      'ENUM_VALUE_REMOVED /const N-',
    ]);
    expect(changes({ const: 'a' }, { const: 'a', enum: ['a', 'b'] })).toEqual([]);
  });
});

describe('counts of items matching contains', () => {
  it('are nothing without contains, and breaking both ways when contains changes too', () => {
    expect(changes({ minContains: 2 }, { minContains: 3 })).toEqual([]);
    expect(
      changes({ contains: str, minContains: 2 }, { contains: { type: 'number' }, minContains: 3 }),
    ).toContain('KEYWORD_CHANGED /minContains NW');
  });

  it('count from one when minContains is absent', () => {
    expect(changes({ contains: str, minContains: 1 }, { contains: str })).toEqual([]);
    expect(changes({ contains: str, minContains: 0 }, { contains: str })).toEqual([
      'MIN_CONTAINS_INCREASED /minContains N-',
    ]);
  });
});
