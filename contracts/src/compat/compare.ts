import { compareArrayKeywords } from './array-rules';
import { asBranches, COMBINATORS, compareCombinators } from './combinator-rules';
import { deepEqual, isJsonObject, resolveLocalRef } from './json';
import { admitsType, containsRef, isAnnotation, without } from './keywords';
import { compareObjectKeywords } from './object-rules';
import {
  compareBound,
  compareMultipleOf,
  compareOpaque,
  compareStringShape,
  compareType,
  compareValues,
} from './scalar-rules';
import type { JsonObject, JsonSchema } from './types';
import { BOTH, finding, type Finding, NARROWS, show, type Side, type Walk, WIDENS } from './walk';

// Far deeper than any real schema nests; only a pathological document gets here.
const MAX_DEPTH = 256;

function assertions(schema: JsonObject): string[] {
  return Object.keys(schema).filter((keyword) => !isAnnotation(keyword));
}

/** `{"anyOf": [X]}` (and allOf, oneOf) with nothing beside it means X. */
function unwrapSingleton(schema: JsonObject): JsonSchema | undefined {
  const keywords = assertions(schema);
  const only = keywords[0];
  if (keywords.length !== 1 || !COMBINATORS.some((combinator) => combinator === only)) return;
  const members = schema[only as string];
  return Array.isArray(members) && members.length === 1 ? (members[0] as JsonSchema) : undefined;
}

/**
 * When only one side is a bare combinator (`{"anyOf": [...]}`), the other side becomes its
 * single branch, so `"string"` against `anyOf[string, null]` is one branch added, not a rewrite.
 */
function align(previous: JsonObject, next: JsonObject): [JsonObject, JsonObject] {
  for (const combinator of COMBINATORS) {
    const inPrevious = Object.hasOwn(previous, combinator);
    if (inPrevious === Object.hasOwn(next, combinator)) continue;
    const [bare, other] = inPrevious ? [previous, next] : [next, previous];
    const bareOnly = assertions(bare).every((keyword) => keyword === combinator);
    const otherKeywords = assertions(other);
    const otherPlain =
      otherKeywords.length > 0 &&
      !otherKeywords.some((keyword) => COMBINATORS.some((name) => name === keyword));
    if (!bareOnly || !otherPlain) continue;
    const wrapped = { [combinator]: asBranches(combinator, other) };
    return inPrevious ? [previous, wrapped] : [wrapped, next];
  }
  return [previous, next];
}

function compareKeywords(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  walk: Walk,
): Finding[] {
  const both = (type: string) => admitsType(previous, type) && admitsType(next, type);
  const findings = [
    ...compareType(previous, next, pointer),
    ...compareValues(previous, next, pointer),
  ];
  if (both('number')) {
    findings.push(
      ...compareBound(previous, next, pointer, 'minimum'),
      ...compareBound(previous, next, pointer, 'exclusiveMinimum'),
      ...compareBound(previous, next, pointer, 'maximum'),
      ...compareBound(previous, next, pointer, 'exclusiveMaximum'),
      ...compareMultipleOf(previous, next, pointer),
    );
  }
  if (both('string')) {
    findings.push(
      ...compareBound(previous, next, pointer, 'minLength'),
      ...compareBound(previous, next, pointer, 'maxLength'),
      ...compareStringShape(previous, next, pointer, 'pattern'),
      ...compareStringShape(previous, next, pointer, 'format'),
    );
  }
  if (both('object')) findings.push(...compareObjectKeywords(previous, next, pointer, walk));
  if (both('array')) findings.push(...compareArrayKeywords(previous, next, pointer, walk));
  findings.push(
    ...compareCombinators(previous, next, pointer, walk),
    ...['$dynamicRef', '$recursiveRef'].flatMap((keyword) =>
      compareOpaque(previous, next, pointer, keyword, false),
    ),
  );
  return findings;
}

/**
 * Walks two schema documents side by side and returns every difference that can make some
 * instance valid under one and invalid under the other. Same-document `$ref`s are followed; a
 * pair of subschemas already being compared further up is assumed equal, which ends cycles.
 */
export function compareSchemas(previousRoot: JsonSchema, nextRoot: JsonSchema): Finding[] {
  const roots: Record<Side, JsonSchema> = { previous: previousRoot, next: nextRoot };
  const inProgress = new Map<JsonSchema, Set<JsonSchema>>();
  let depth = 0;

  const walk: Walk = {
    resolve(schema, side) {
      let current = schema;
      const followed = new Set<string>();
      while (isJsonObject(current) && typeof current.$ref === 'string') {
        const ref = current.$ref;
        const target = followed.has(ref) ? undefined : resolveLocalRef(roots[side], ref);
        if (target === undefined) return undefined;
        followed.add(ref);
        const siblings = without(current, '$ref');
        // In 2020-12 keywords beside $ref apply too.
        if (assertions(siblings).length > 0) return { allOf: [target, siblings] };
        current = target;
      }
      return current;
    },

    compare(previous, next, pointer) {
      if (!containsRef(previous) && !containsRef(next) && deepEqual(previous, next)) return [];
      const seen = inProgress.get(previous) ?? new Set<JsonSchema>();
      if (seen.has(next)) return [];
      if (depth >= MAX_DEPTH) {
        return [
          finding(
            pointer,
            'KEYWORD_CHANGED',
            'nested too deeply to compare; taken as breaking',
            BOTH,
          ),
        ];
      }
      seen.add(next);
      inProgress.set(previous, seen);
      depth += 1;
      try {
        return compareResolved(previous, next, pointer);
      } finally {
        depth -= 1;
        seen.delete(next);
      }
    },
  };

  function compareResolved(previous: JsonSchema, next: JsonSchema, pointer: string): Finding[] {
    const before = walk.resolve(previous, 'previous');
    const after = walk.resolve(next, 'next');
    if (before === undefined || after === undefined) {
      // The same unresolvable reference on both sides is taken to mean the same schema.
      if (deepEqual(previous, next)) return [];
      const ref = before === undefined ? (previous as JsonObject).$ref : (next as JsonObject).$ref;
      return [
        finding(
          pointer,
          'REF_UNRESOLVED',
          `cannot resolve $ref ${show(ref)} (only same-document references are followed); taken as breaking`,
          BOTH,
        ),
      ];
    }
    // A followed $ref may land on a pair already being compared further up: a cycle.
    const followed = before !== previous || after !== next;
    const seen = inProgress.get(before) ?? new Set<JsonSchema>();
    if (followed && seen.has(after)) return [];
    if (!followed) return compareTargets(before, after, pointer);
    seen.add(after);
    inProgress.set(before, seen);
    try {
      return compareTargets(before, after, pointer);
    } finally {
      seen.delete(after);
    }
  }

  function compareTargets(before: JsonSchema, after: JsonSchema, pointer: string): Finding[] {
    if (before === false && after === false) return [];
    if (after === false) {
      return [
        finding(
          pointer,
          'FALSE_SCHEMA_ADDED',
          'schema is now false: nothing is valid here',
          NARROWS,
        ),
      ];
    }
    if (before === false) {
      return [
        finding(
          pointer,
          'FALSE_SCHEMA_REMOVED',
          'schema was false: values here are now valid',
          WIDENS,
        ),
      ];
    }
    const beforeObject = before === true ? {} : before;
    const afterObject = after === true ? {} : after;
    const beforeUnwrapped = unwrapSingleton(beforeObject);
    const afterUnwrapped = unwrapSingleton(afterObject);
    if (beforeUnwrapped !== undefined || afterUnwrapped !== undefined) {
      return walk.compare(beforeUnwrapped ?? before, afterUnwrapped ?? after, pointer);
    }
    const [alignedBefore, alignedAfter] = align(beforeObject, afterObject);
    return compareKeywords(alignedBefore, alignedAfter, pointer, walk);
  }

  return walk.compare(previousRoot, nextRoot, '');
}
