import { childPointer, deepEqual, isJsonObject, isSchema } from './json';
import { allowedValues, typeAdmitted, typesOf } from './keywords';
import { compareOpaque } from './scalar-rules';
import type { JsonObject, JsonSchema, SchemaChangeRule } from './types';
import { finding, type Finding, NARROWS, show, type Side, type Walk, WIDENS } from './walk';

type Combinator = 'allOf' | 'anyOf' | 'oneOf';

const BRANCH_RULES: Record<Combinator, { added: SchemaChangeRule; removed: SchemaChangeRule }> = {
  allOf: { added: 'ALL_OF_MEMBER_ADDED', removed: 'ALL_OF_MEMBER_REMOVED' },
  anyOf: { added: 'ANY_OF_BRANCH_ADDED', removed: 'ANY_OF_BRANCH_REMOVED' },
  oneOf: { added: 'ONE_OF_BRANCH_ADDED', removed: 'ONE_OF_BRANCH_REMOVED' },
};

function schemaList(value: unknown): JsonSchema[] | undefined {
  return Array.isArray(value) ? value.filter(isSchema) : undefined;
}

function typesOfSchema(schema: JsonSchema | undefined): Set<string> {
  if (schema === undefined || schema === true) return typesOf({});
  if (schema === false) return new Set();
  return typesOf(schema);
}

function typesOverlap(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return (
    [...a].some((type) => typeAdmitted(type, b)) || [...b].some((type) => typeAdmitted(type, a))
  );
}

function valuesDisjoint(a: JsonObject, b: JsonObject): boolean {
  const left = allowedValues(a);
  const right = allowedValues(b);
  return (
    left !== undefined &&
    right !== undefined &&
    !left.some((x) => right.some((y) => deepEqual(x, y)))
  );
}

/**
 * Whether no instance can match both schemas, judged from types, finite value sets and a
 * required discriminator property with disjoint values. False when unsure.
 */
function disjoint(a: JsonSchema | undefined, b: JsonSchema | undefined, walk: Walk, side: Side) {
  if (a === false || b === false) return true;
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  if (!typesOverlap(typesOfSchema(a), typesOfSchema(b))) return true;
  if (valuesDisjoint(a, b)) return true;
  const required = (schema: JsonObject) =>
    new Set(Array.isArray(schema.required) ? schema.required : []);
  const property = (schema: JsonObject, name: string) => {
    const properties = isJsonObject(schema.properties) ? schema.properties : {};
    const value = properties[name];
    return isSchema(value) ? walk.resolve(value, side) : undefined;
  };
  const bothRequired = [...required(a)].filter(
    (name): name is string => typeof name === 'string' && required(b).has(name),
  );
  return bothRequired.some((name) => {
    const left = property(a, name);
    const right = property(b, name);
    return isJsonObject(left) && isJsonObject(right) && valuesDisjoint(left, right);
  });
}

function pairwiseDisjoint(branches: JsonSchema[], walk: Walk, side: Side): boolean {
  const resolved = branches.map((branch) => walk.resolve(branch, side));
  return resolved.every((a, i) => resolved.slice(i + 1).every((b) => disjoint(a, b, walk, side)));
}

const breaking = (findings: readonly Finding[]) =>
  findings.filter((item) => item.narrows || item.widens).length;

/** Pairs previous and next branches, closest first; branches sharing no type stay unpaired. */
function pairBranches(
  before: JsonSchema[],
  after: JsonSchema[],
  matrix: Finding[][][],
  walk: Walk,
): [number, number][] {
  const beforeTypes = before.map((branch) => typesOfSchema(walk.resolve(branch, 'previous')));
  const afterTypes = after.map((branch) => typesOfSchema(walk.resolve(branch, 'next')));
  const candidates: { i: number; j: number; cost: number[] }[] = [];
  before.forEach((_, i) =>
    after.forEach((_, j) => {
      const findings = matrix[i]?.[j] ?? [];
      const exact = deepEqual(before[i], after[j]);
      if (!exact && !typesOverlap(beforeTypes[i] ?? new Set(), afterTypes[j] ?? new Set())) return;
      candidates.push({
        i,
        j,
        cost: [exact ? 0 : 1, breaking(findings), findings.length, Math.abs(i - j)],
      });
    }),
  );
  candidates.sort((x, y) => {
    const index = x.cost.findIndex((value, k) => value !== y.cost[k]);
    return index === -1 ? 0 : (x.cost[index] ?? 0) - (y.cost[index] ?? 0);
  });
  const usedBefore = new Set<number>();
  const usedAfter = new Set<number>();
  const pairs: [number, number][] = [];
  for (const { i, j } of candidates) {
    if (usedBefore.has(i) || usedAfter.has(j)) continue;
    usedBefore.add(i);
    usedAfter.add(j);
    pairs.push([i, j]);
  }
  return pairs;
}

/**
 * Compares two branch lists of the same combinator. Every previous/next pair is compared; a pair
 * is then reported with flags cleared where another branch already covers the difference
 * (anyOf: a previous branch inside some next branch cannot narrow; allOf: a next member implied
 * by some previous member cannot narrow; and the mirror images for widening). oneOf is anyOf
 * when the branches on a side are disjoint; otherwise a change there is taken to break both ways,
 * since data may start or stop matching exactly one branch.
 */
function compareBranches(
  keyword: Combinator,
  before: JsonSchema[],
  after: JsonSchema[],
  pointer: string,
  walk: Walk,
): Finding[] {
  const matrix = before.map((was) =>
    after.map((is, j) => walk.compare(was, is, childPointer(pointer, keyword, j))),
  );
  const narrowsAt = (i: number, j: number) => (matrix[i]?.[j] ?? []).some((item) => item.narrows);
  const widensAt = (i: number, j: number) => (matrix[i]?.[j] ?? []).some((item) => item.widens);
  const indexes = (list: JsonSchema[]) => list.map((_, index) => index);
  // previous ⊆ next when every previous branch is inside some next branch (anyOf), or every
  // next member contains some previous member (allOf); the same with sides swapped for widening.
  const narrowingCovered =
    keyword === 'allOf'
      ? (_i: number, j: number) => indexes(before).some((k) => !narrowsAt(k, j))
      : (i: number) => indexes(after).some((k) => !narrowsAt(i, k));
  const wideningCovered =
    keyword === 'allOf'
      ? (i: number) => indexes(after).some((k) => !widensAt(i, k))
      : (_i: number, j: number) => indexes(before).some((k) => !widensAt(k, j));
  const overlapAfter = keyword === 'oneOf' && !pairwiseDisjoint(after, walk, 'next');
  const overlapBefore = keyword === 'oneOf' && !pairwiseDisjoint(before, walk, 'previous');

  const pairs = pairBranches(before, after, matrix, walk);
  const findings: Finding[] = [];
  for (const [i, j] of pairs) {
    for (const item of matrix[i]?.[j] ?? []) {
      findings.push({
        ...item,
        narrows: item.narrows
          ? !narrowingCovered(i, j) || overlapAfter
          : overlapAfter && item.widens,
        widens: item.widens
          ? !wideningCovered(i, j) || overlapBefore
          : overlapBefore && item.narrows,
      });
    }
  }
  const rules = BRANCH_RULES[keyword];
  const noun = keyword === 'allOf' ? 'member' : 'branch';
  for (const j of indexes(after).filter((j) => !pairs.some(([, b]) => b === j))) {
    const covered = keyword === 'allOf' ? narrowingCovered(-1, j) : wideningCovered(-1, j);
    findings.push(
      finding(
        childPointer(pointer, keyword, j),
        rules.added,
        `${keyword} ${noun} ${show(after[j])} added`,
        keyword === 'allOf'
          ? { narrows: !covered, widens: false }
          : { narrows: overlapAfter, widens: !covered },
      ),
    );
  }
  for (const i of indexes(before).filter((i) => !pairs.some(([a]) => a === i))) {
    const covered = keyword === 'allOf' ? wideningCovered(i, -1) : narrowingCovered(i, -1);
    findings.push(
      finding(
        childPointer(pointer, keyword, i),
        rules.removed,
        `${keyword} ${noun} ${show(before[i])} removed`,
        keyword === 'allOf'
          ? { narrows: false, widens: !covered }
          : { narrows: !covered, widens: overlapBefore },
      ),
    );
  }
  return findings;
}

function compareCombinator(
  keyword: Combinator,
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  walk: Walk,
): Finding[] {
  const before = schemaList(previous[keyword]);
  const after = schemaList(next[keyword]);
  if (before === undefined && after === undefined) return [];
  // An absent allOf is an empty conjunction; an absent anyOf/oneOf is no condition at all.
  if (keyword === 'allOf' || (before !== undefined && after !== undefined)) {
    return compareBranches(keyword, before ?? [], after ?? [], pointer, walk);
  }
  const at = childPointer(pointer, keyword);
  return before === undefined
    ? [finding(at, 'KEYWORD_ADDED', `${keyword} added: data must now match its branches`, NARROWS)]
    : [finding(at, 'KEYWORD_REMOVED', `${keyword} removed: its branches no longer apply`, WIDENS)];
}

function compareNot(previous: JsonObject, next: JsonObject, pointer: string, walk: Walk) {
  const before = previous.not;
  const after = next.not;
  if (!isSchema(before) || !isSchema(after))
    return compareOpaque(previous, next, pointer, 'not', true);
  // `not` turns the comparison inside out: a wider excluded set is a narrower schema.
  return walk
    .compare(before, after, childPointer(pointer, 'not'))
    .map((item) => ({ ...item, narrows: item.widens, widens: item.narrows }));
}

/** allOf, anyOf, oneOf, not, and if/then/else (compared as a whole). */
export function compareCombinators(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  walk: Walk,
): Finding[] {
  return [
    ...compareCombinator('allOf', previous, next, pointer, walk),
    ...compareCombinator('anyOf', previous, next, pointer, walk),
    ...compareCombinator('oneOf', previous, next, pointer, walk),
    ...compareNot(previous, next, pointer, walk),
    ...['if', 'then', 'else'].flatMap((keyword) =>
      compareOpaque(previous, next, pointer, keyword, false),
    ),
  ];
}

/** Wraps a schema as the only branch of a combinator; a multi-type anyOf splits by type. */
export function asBranches(keyword: Combinator, schema: JsonObject): JsonSchema[] {
  const types = Array.isArray(schema.type) ? schema.type : undefined;
  const split =
    types !== undefined &&
    types.length > 1 &&
    (keyword === 'anyOf' ||
      (keyword === 'oneOf' && !(types.includes('integer') && types.includes('number'))));
  if (!split) return [schema];
  return types.map((type) => ({ ...schema, type }));
}

export const COMBINATORS: readonly Combinator[] = ['allOf', 'anyOf', 'oneOf'];
