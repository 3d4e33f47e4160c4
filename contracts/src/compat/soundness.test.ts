import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCompatibility } from './index';
import {
  applyEdits,
  asDocument,
  type Draft,
  editArb,
  hasContainsBesideTuple,
  instanceArb,
  schemaArb,
} from './schema-samples.fixture';
import type { JsonSchema } from './types';

// The checker's verdicts must be sound: when it says a change is BACKWARD-compatible, every
// instance the previous schema accepts is accepted by the next one; when it says
// FORWARD-compatible, the reverse. Random schemas of each draft, a few random edits of each, and
// random instances judged by Ajv (an independent validator) search for a counter-example.

const validators: Record<Draft, Ajv> = {
  'draft-07': new Ajv({ strict: false, allErrors: false }),
  '2020-12': new Ajv2020({ strict: false, allErrors: false }),
};
for (const ajv of Object.values(validators)) addFormats(ajv, ['date', 'uuid']);

function compile(schema: JsonSchema, draft: Draft): ValidateFunction | undefined {
  try {
    return validators[draft].compile(schema as object);
  } catch {
    return undefined; // a random schema Ajv refuses (e.g. an invalid pattern): not a case
  }
}

/** Ajv's verdict, or undefined where it fails (8.20 throws on some `unevaluated*` schemas). */
function verdict(validate: ValidateFunction, instance: unknown): boolean | undefined {
  try {
    return validate(instance);
  } catch {
    return undefined;
  }
}

/** An instance one schema accepts and the other refuses, if the samples hold one. */
function counterExample(
  accepts: ValidateFunction,
  refuses: ValidateFunction,
  instances: readonly unknown[],
): unknown {
  return instances.find(
    (instance) => verdict(accepts, instance) === true && verdict(refuses, instance) === false,
  );
}

describe.each(['draft-07', '2020-12'] as const)('compatibility verdicts, %s', (draft) => {
  it('never call a change compatible that some instance shows is not', () => {
    fc.assert(
      fc.property(
        schemaArb(draft),
        fc.array(editArb(draft), { minLength: 1, maxLength: 3 }),
        fc.array(instanceArb, { minLength: 150, maxLength: 150 }),
        (schema, edits, instances) => {
          const previous = asDocument(schema, draft);
          const next = asDocument(applyEdits(schema, edits), draft);
          if (hasContainsBesideTuple(previous) || hasContainsBesideTuple(next)) return;
          const before = compile(previous, draft);
          const after = compile(next, draft);
          if (!before || !after) return;
          if (checkCompatibility(previous, next, 'BACKWARD').compatible) {
            expect({
              previous,
              next,
              narrowedBy: counterExample(before, after, instances),
            }).toEqual({
              previous,
              next,
              narrowedBy: undefined,
            });
          }
          if (checkCompatibility(previous, next, 'FORWARD').compatible) {
            expect({ previous, next, widenedBy: counterExample(after, before, instances) }).toEqual(
              {
                previous,
                next,
                widenedBy: undefined,
              },
            );
          }
        },
      ),
      { numRuns: Number(process.env.COMPAT_RUNS ?? 400) },
    );
  });
});
