import { childPointer, isSchema } from './json';
import { itemLayout } from './keywords';
import {
  compareBound,
  compareOpaque,
  compareUnevaluated,
  compareUniqueItems,
} from './scalar-rules';
import type { JsonObject, JsonSchema } from './types';
import { finding, type Finding, flagsOf, type Walk } from './walk';

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
    ...compareOpaque(previous, next, pointer, 'minContains', false),
    ...compareOpaque(previous, next, pointer, 'maxContains', false),
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
  const asSchema = (value: unknown): JsonSchema => (isSchema(value) ? value : true);
  return walk.compare(asSchema(before), asSchema(after), childPointer(pointer, 'additionalItems'));
}
