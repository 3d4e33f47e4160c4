import { asSchema, childPointer, deepEqual } from './json';
import { containsRef, itemLayout } from './keywords';
import {
  compareBound,
  compareOpaque,
  compareUnevaluated,
  compareUniqueItems,
} from './scalar-rules';
import type { JsonObject } from './types';
import { BOTH, finding, type Finding, flagsOf, NARROWS, show, type Walk, WIDENS } from './walk';

/**
 * The array keywords. Each position is compared through whatever governs it on each side: its
 * own `prefixItems` entry (or draft-07 `items` array entry), else the schema for later positions.
 */
export function compareArrayKeywords(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  walk: Walk,
): Finding[] {
  const before = itemLayout(previous);
  const after = itemLayout(next);
  const draft07 = before.draft07 && after.draft07;
  const prefixKeyword = draft07 ? 'items' : 'prefixItems';
  const restPointer = childPointer(pointer, draft07 ? 'additionalItems' : 'items');
  const findings: Finding[] = [];
  const positions = Math.max(before.prefix.length, after.prefix.length);
  for (let index = 0; index < positions; index += 1) {
    const at = childPointer(pointer, prefixKeyword, index);
    const was = before.prefix[index];
    const is = after.prefix[index];
    if (was !== undefined && is !== undefined) {
      findings.push(...walk.compare(was, is, at));
    } else if (is !== undefined) {
      findings.push(
        finding(
          at,
          'PREFIX_ITEM_ADDED',
          `position ${index} now has its own schema instead of the one for later items`,
          flagsOf(walk.compare(before.rest, is, at)),
        ),
      );
    } else if (was !== undefined) {
      findings.push(
        finding(
          at,
          'PREFIX_ITEM_REMOVED',
          `position ${index} no longer has its own schema; the one for later items applies`,
          flagsOf(walk.compare(was, after.rest, at)),
        ),
      );
    }
  }
  findings.push(...walk.compare(before.rest, after.rest, restPointer));
  if (!before.draft07 && !after.draft07)
    findings.push(...compareLoneAdditionalItems(previous, next, pointer, walk));
  return [
    ...findings,
    ...compareBound(previous, next, pointer, 'minItems'),
    ...compareBound(previous, next, pointer, 'maxItems'),
    ...compareUniqueItems(previous, next, pointer),
    ...compareOpaque(previous, next, pointer, 'contains', true),
    ...compareContainsCount(previous, next, pointer, 'minContains'),
    ...compareContainsCount(previous, next, pointer, 'maxContains'),
    ...compareUnevaluated(previous, next, pointer, 'items'),
  ];
}

/**
 * `additionalItems` where neither side has positional `items`: validators ignore it there, but
 * Schema Registry compares it all the same (it takes effect as soon as `items` becomes a list),
 * so a change to it is reported as if it applied to every item.
 */
function compareLoneAdditionalItems(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  walk: Walk,
): Finding[] {
  const before = previous.additionalItems;
  const after = next.additionalItems;
  if (before === undefined && after === undefined) return [];
  return walk.compare(asSchema(before), asSchema(after), childPointer(pointer, 'additionalItems'));
}

/**
 * `minContains` / `maxContains`: how many items must match `contains` (at least one, and any
 * number, when absent). Without `contains` on either side they constrain nothing; with a
 * `contains` that changed too, the count is of other items, so a changed count is taken as
 * breaking both ways.
 */
function compareContainsCount(
  previous: JsonObject,
  next: JsonObject,
  pointer: string,
  keyword: 'minContains' | 'maxContains',
): Finding[] {
  const hasContains = (schema: JsonObject) => Object.hasOwn(schema, 'contains');
  if (!hasContains(previous) && !hasContains(next)) return [];
  const absent = keyword === 'minContains' ? 1 : Infinity;
  const countOf = (schema: JsonObject) =>
    typeof schema[keyword] === 'number' ? (schema[keyword] as number) : absent;
  const before = countOf(previous);
  const after = countOf(next);
  if (before === after) return [];
  const at = childPointer(pointer, keyword);
  const sameContains =
    hasContains(previous) &&
    hasContains(next) &&
    deepEqual(previous.contains, next.contains) &&
    !containsRef(previous.contains);
  if (!sameContains) {
    return [
      finding(
        at,
        'KEYWORD_CHANGED',
        `${keyword} changed along with contains; treated as breaking both ways`,
        BOTH,
      ),
    ];
  }
  const raised = after > before;
  const lower = keyword === 'minContains';
  const prefix = lower ? 'MIN_CONTAINS' : 'MAX_CONTAINS';
  return [
    finding(
      at,
      raised ? `${prefix}_INCREASED` : `${prefix}_DECREASED`,
      `${keyword} ${raised ? 'raised' : 'lowered'} from ${show(before)} to ${show(after)} items matching contains`,
      raised === lower ? NARROWS : WIDENS,
    ),
  ];
}
