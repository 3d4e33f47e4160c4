import { describe, expect, it } from 'vitest';
import { contractJsonSchema } from '../catalogue/json-schema';
import { EVENT_CONTRACTS } from '../events/registry';
import { validateJsonSchema } from './validate-schema';

describe('validateJsonSchema', () => {
  it('accepts every contract version the catalogue emits, and boolean schemas', () => {
    for (const contract of EVENT_CONTRACTS) {
      expect(validateJsonSchema(contractJsonSchema(contract))).toEqual([]);
    }
    expect(validateJsonSchema(true)).toEqual([]);
    expect(validateJsonSchema({ 'x-anything': 1, unknownKeyword: 'allowed' })).toEqual([]);
  });

  it('names an unknown type and suggests the near miss', () => {
    expect(validateJsonSchema({ type: 'strng' })).toEqual([
      {
        pointer: '/type',
        message: expect.stringContaining('unknown type "strng" (did you mean "string"?)'),
      },
    ]);
    expect(validateJsonSchema({ type: ['string', 'nul'] })).toEqual([
      { pointer: '/type/1', message: expect.stringContaining('"nul"') },
    ]);
  });

  it('rejects a document that is not an object or a boolean', () => {
    expect(validateJsonSchema([{ type: 'string' }])).toEqual([
      { pointer: '', message: 'a schema is an object or a boolean, not an array' },
    ]);
    expect(validateJsonSchema('string')).toEqual([
      { pointer: '', message: 'a schema is an object or a boolean, not a string' },
    ]);
  });

  it('points at keyword values of the wrong kind, however deep', () => {
    const problems = validateJsonSchema({
      type: 'object',
      properties: {
        name: { type: 'string', minLength: -1, pattern: '([a-z' },
        tags: { type: 'array', items: [{ type: 'string' }, 3], uniqueItems: 'yes' },
        price: { type: 'number', minimum: '0', multipleOf: 0 },
      },
      required: 'name',
      anyOf: [],
      patternProperties: { '(': true },
      $defs: { broken: { enum: 'a' } },
    });
    expect(problems.map((problem) => problem.pointer)).toEqual([
      '/required',
      '/properties/name/minLength',
      '/properties/name/pattern',
      '/properties/tags/uniqueItems',
      '/properties/tags/items/1',
      '/properties/price/minimum',
      '/properties/price/multipleOf',
      '/patternProperties/(',
      '/$defs/broken/enum',
      '/anyOf',
    ]);
  });

  it('requires same-document references to resolve', () => {
    expect(validateJsonSchema({ $defs: { a: { type: 'string' } }, $ref: '#/$defs/a' })).toEqual([]);
    expect(validateJsonSchema({ properties: { a: { $ref: '#/$defs/missing' } } })).toEqual([
      {
        pointer: '/properties/a/$ref',
        message: '$ref "#/$defs/missing" points to nothing in this document',
      },
    ]);
  });

  it('reads the draft from $schema and names keywords its validators would ignore', () => {
    const draft07 = 'http://json-schema.org/draft-07/schema#';
    const draft2020 = 'https://json-schema.org/draft/2020-12/schema';
    expect(
      validateJsonSchema({ $schema: draft2020, items: [true], additionalItems: false }),
    ).toEqual([
      {
        pointer: '/additionalItems',
        message: expect.stringContaining('not a keyword of JSON Schema 2020-12'),
      },
      { pointer: '/items', message: expect.stringContaining('prefixItems') },
    ]);
    expect(
      validateJsonSchema({ $schema: draft07, properties: { a: { unevaluatedProperties: false } } }),
    ).toEqual([
      {
        pointer: '/properties/a/unevaluatedProperties',
        message: expect.stringContaining('not a keyword of JSON Schema draft-07'),
      },
    ]);
    // Without $schema every draft's keywords are read.
    expect(validateJsonSchema({ items: [true], prefixItems: [true], dependencies: {} })).toEqual(
      [],
    );
  });

  it('refuses a $schema it does not know, and dependencies that are neither names nor schemas', () => {
    expect(validateJsonSchema({ $schema: 'http://json-schema.org/draft-03/schema#' })).toEqual([
      { pointer: '/$schema', message: expect.stringContaining('not a draft the checker knows') },
    ]);
    expect(
      validateJsonSchema({ dependencies: { a: ['b', 1], c: { minimum: 'x' } } }).map(
        (problem) => problem.pointer,
      ),
    ).toEqual(['/dependencies/a', '/dependencies/c/minimum']);
  });
});
