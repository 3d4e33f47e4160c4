import type { JsonObject, JsonSchema } from './types';

/** Whether a value is a JSON object, as opposed to an array, null or a scalar. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a value has the shape of a schema: a boolean or an object. */
export function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'boolean' || isJsonObject(value);
}

/** A keyword's value as a schema; absent or not a schema, it constrains nothing (`true`). */
export function asSchema(value: unknown): JsonSchema {
  return isSchema(value) ? value : true;
}

/** Structural equality of JSON values, ignoring object key order. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]))
    );
  }
  return false;
}

/** Appends segments to a JSON pointer, escaping `~` and `/` as RFC 6901 requires. */
export function childPointer(pointer: string, ...segments: (string | number)[]): string {
  return (
    pointer +
    segments
      .map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`)
      .join('')
  );
}

/** The unescaped segments of a JSON pointer. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Resolves a same-document `$ref` (`#`, `#/$defs/...`), or undefined when it points nowhere. */
export function resolveLocalRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let fragment: string;
  try {
    fragment = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  // Plain-name anchors (`#foo`) would need an `$anchor` index; zod never emits them.
  if (fragment !== '' && !fragment.startsWith('/')) return undefined;
  let node: unknown = root;
  for (const segment of pointerSegments(fragment)) {
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (isJsonObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return isSchema(node) ? node : undefined;
}
