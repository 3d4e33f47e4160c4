/**
 * What PostgreSQL cannot store of a parsed JSON document, found before anything is written:
 * `text` and `jsonb` refuse U+0000 and unpaired UTF-16 surrogates, and a document nested very
 * deeply exhausts the server's stack (and ours, in JSON.stringify).
 */

/** Nesting a change event may have, row images and JSON columns included. */
export const MAX_JSON_DEPTH = 64;

/** Something in a document PostgreSQL would refuse, and where it is. */
export interface JsonProblem {
  path: readonly (string | number)[];
  message: string;
}

// With the `u` flag a surrogate pair reads as one code point: only unpaired surrogates match.
// eslint-disable-next-line no-control-regex -- U+0000 is what this looks for
const UNSTORABLE_CHARACTER = /\u0000|[\ud800-\udfff]/u;

const UNSTORABLE_CHARACTERS = new RegExp(UNSTORABLE_CHARACTER.source, 'gu');

/** The text with each character PostgreSQL cannot store replaced by U+FFFD. */
export function replaceUnstorable(text: string): string {
  return text.replace(UNSTORABLE_CHARACTERS, '\ufffd');
}

/** Why a string cannot be stored by PostgreSQL, or undefined when it can. */
export function unstorableText(text: string): string | undefined {
  const found = UNSTORABLE_CHARACTER.exec(text);
  if (!found) return undefined;
  return found[0] === '\u0000'
    ? 'contains the NUL character U+0000, which PostgreSQL text and jsonb cannot store'
    : 'contains an unpaired UTF-16 surrogate, which is not valid Unicode text';
}

/**
 * The first problem of a parsed JSON value, depth first, or undefined. Iterative: the value may
 * be nested deeper than the call stack allows.
 */
export function findUnstorableJson(
  value: unknown,
  maxDepth: number = MAX_JSON_DEPTH,
): JsonProblem | undefined {
  const pending: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: current, path } = next;
    if (typeof current === 'string') {
      const problem = unstorableText(current);
      if (problem) return { path, message: problem };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= maxDepth) {
      return { path, message: `nested deeper than ${maxDepth} levels` };
    }
    const entries: [string | number, unknown][] = Array.isArray(current)
      ? current.map((item, index) => [index, item])
      : Object.entries(current);
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const [key, item] = entries[index] as [string | number, unknown];
      if (typeof key === 'string') {
        const problem = unstorableText(key);
        if (problem) return { path: [...path, key], message: `its name ${problem}` };
      }
      pending.push({ value: item, path: [...path, key] });
    }
  }
  return undefined;
}

// In JSON text, U+0000 and surrogates can only be written as escapes (raw control characters are
// invalid, and invalid UTF-8 decodes to U+FFFD).
const ESCAPED_NUL_OR_SURROGATE = /\\u(0000|[dD][89a-fA-F])/;

/**
 * Whether a JSON text may hold something {@link findUnstorableJson} would report: a cheap test
 * on the text, so the walk is only done for the few documents that need it.
 */
export function mayBeUnstorable(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  if (ESCAPED_NUL_OR_SURROGATE.test(text)) return true;
  // Nesting deeper than maxDepth needs more than maxDepth opening brackets.
  let opened = 0;
  for (const bracket of ['{', '[']) {
    let index = text.indexOf(bracket);
    while (index !== -1) {
      opened += 1;
      if (opened > maxDepth) return true;
      index = text.indexOf(bracket, index + 1);
    }
  }
  return false;
}
