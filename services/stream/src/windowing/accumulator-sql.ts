// The SQL twins of `accumulator.ts`: where the stream merges partials and computes values inside
// PostgreSQL (the window store's upsert, the emitter's merge, the emission's value), the
// warehouse runs these functions. They are written here, beside the TypeScript they must equal,
// and installed by a migration (`CREATE OR REPLACE`); the parity test
// (workflows/src/consolidation/parity.int.test.ts) checks that the warehouse runs exactly this
// text and that both sides agree on random accumulators. Changing one here needs a migration
// that installs it again, which that test asks for.

/** One SQL function and the TypeScript function it mirrors. */
export interface SqlTwin {
  /** Schema-qualified name. */
  name: string;
  /** `name(arg type, ...)`, as `regprocedure` reads it. */
  signature: string;
  arguments: string;
  returns: string;
  /** The TypeScript function in accumulator.ts it must equal. */
  twin: 'mergeAccumulator' | 'resultOf';
  body: string;
}

export const ACCUMULATOR_SQL_TWINS: readonly SqlTwin[] = [
  {
    // Merges two accumulators (rows, measured, sum and the multiset of values), all additive;
    // multiplicities that reach zero disappear.
    name: 'stream.merge_accumulator',
    signature: 'stream.merge_accumulator(jsonb,jsonb)',
    arguments: 'a jsonb, b jsonb',
    returns: 'jsonb',
    twin: 'mergeAccumulator',
    body: `
      SELECT jsonb_build_object(
        'rows', (a->>'rows')::numeric + (b->>'rows')::numeric,
        'measured', (a->>'measured')::numeric + (b->>'measured')::numeric,
        'sum', (a->>'sum')::numeric + (b->>'sum')::numeric,
        'values', COALESCE((
          SELECT jsonb_object_agg(k, n) FROM (
            SELECT k, sum(n) AS n FROM (
              SELECT key AS k, value::numeric AS n FROM jsonb_each_text(a->'values')
              UNION ALL
              SELECT key, value::numeric FROM jsonb_each_text(b->'values')
            ) merged GROUP BY k HAVING sum(n) <> 0
          ) kept), '{}'::jsonb))
    `,
  },
  {
    // The value of an accumulator for an aggregate function, with SQL's null semantics: a count
    // counts rows; the others ignore null measures and are null when nothing was measured.
    name: 'stream.accumulator_value',
    signature: 'stream.accumulator_value(text,jsonb)',
    arguments: 'fn text, acc jsonb',
    returns: 'numeric',
    twin: 'resultOf',
    body: `
      SELECT CASE
        WHEN fn = 'count' THEN (acc->>'rows')::numeric
        WHEN (acc->>'measured')::numeric <= 0 THEN NULL
        WHEN fn = 'sum' THEN (acc->>'sum')::numeric
        WHEN fn = 'avg' THEN (acc->>'sum')::numeric / (acc->>'measured')::numeric
        WHEN fn = 'count_distinct' THEN
          (SELECT count(*) FROM jsonb_each_text(acc->'values') WHERE value::numeric > 0)
        WHEN fn = 'min' THEN
          (SELECT min(key::numeric) FROM jsonb_each_text(acc->'values') WHERE value::numeric > 0)
        WHEN fn = 'max' THEN
          (SELECT max(key::numeric) FROM jsonb_each_text(acc->'values') WHERE value::numeric > 0)
      END
    `,
  },
];

/** The statement installing a twin (idempotent). */
export function createSqlTwin(twin: SqlTwin): string {
  return `CREATE OR REPLACE FUNCTION ${twin.name}(${twin.arguments}) RETURNS ${twin.returns}
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $twin$${twin.body}$twin$`;
}
