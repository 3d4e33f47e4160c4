import { isJsonObject } from './json';
import type { JsonObject } from './types';

/** The JSON Schema drafts a document may declare with `$schema`. */
export type Draft = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

export const DRAFT_URIS: Record<Draft, string> = {
  'draft-04': 'http://json-schema.org/draft-04/schema#',
  'draft-06': 'http://json-schema.org/draft-06/schema#',
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

/** A `$schema` URI as compared: no scheme, no trailing `#`. */
function normalized(uri: string): string {
  return uri
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/#$/, '');
}

/**
 * The draft a document's root `$schema` names: undefined when it names none (the checker then
 * reads the keywords of every draft), 'unknown' when it names one the checker does not know.
 */
export function draftOf(document: unknown): Draft | 'unknown' | undefined {
  if (!isJsonObject(document) || document.$schema === undefined) return undefined;
  if (typeof document.$schema !== 'string') return 'unknown';
  const uri = normalized(document.$schema);
  const found = (Object.keys(DRAFT_URIS) as Draft[]).find(
    (draft) => normalized(DRAFT_URIS[draft]) === uri,
  );
  return found ?? 'unknown';
}

// Keywords a draft does not have, met in documents of it, with what the draft has instead.
const FROM_2019: Record<string, string | undefined> = {
  dependentRequired: undefined,
  dependentSchemas: undefined,
  unevaluatedItems: undefined,
  unevaluatedProperties: undefined,
  minContains: undefined,
  maxContains: undefined,
  prefixItems: 'positional items are a list in items',
};
const FROM_DRAFT_07 = { if: undefined, then: undefined, else: undefined };
const FROM_DRAFT_06 = { const: undefined, contains: undefined, propertyNames: undefined };

const FOREIGN: Record<Draft, Record<string, string | undefined>> = {
  'draft-04': { ...FROM_2019, ...FROM_DRAFT_07, ...FROM_DRAFT_06 },
  'draft-06': { ...FROM_2019, ...FROM_DRAFT_07 },
  'draft-07': {
    ...FROM_2019,
    dependentRequired: 'use dependencies',
    dependentSchemas: 'use dependencies',
  },
  '2019-09': {
    prefixItems: 'positional items are a list in items',
    dependencies: 'use dependentRequired or dependentSchemas',
  },
  '2020-12': {
    additionalItems: 'the schema for the items after prefixItems is items',
    dependencies: 'use dependentRequired or dependentSchemas',
  },
};

/**
 * Why keywords of a schema object do not belong to its document's draft: keywords of another
 * draft, which its validators ignore, and in 2020-12 a list in `items` (positional items are
 * `prefixItems` there).
 */
export function keywordsNotIn(
  draft: Draft,
  schema: JsonObject,
): { keyword: string; message: string }[] {
  const foreign = FOREIGN[draft];
  const found = Object.keys(schema)
    .filter((keyword) => Object.hasOwn(foreign, keyword))
    .map((keyword) => {
      const instead = foreign[keyword];
      return {
        keyword,
        message: `${keyword} is not a keyword of JSON Schema ${draft}, so its validators ignore it${instead ? `: ${instead}` : ''}`,
      };
    });
  if (draft === '2020-12' && Array.isArray(schema.items)) {
    found.push({
      keyword: 'items',
      message:
        'items is one schema in JSON Schema 2020-12: a list of positional items is prefixItems',
    });
  }
  return found;
}
