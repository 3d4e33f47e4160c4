import { EXPECTATIONS, expectationName, type Expectation } from '@tidemark/contracts';
import type { Knex } from 'knex';
import {
  dayStateSql,
  eventTimeFieldOf,
  expectationSql,
  isWarehouseExpectation,
  landedRowCountSql,
} from '../consolidation/quality-sql';
import { CONSOLIDATION_WORK_MEM, type SqlStatement } from '../consolidation/final-metric-sql';
import type { ConsolidationRun } from './run';

export interface QualityGateDependencies {
  warehouse: Knex;
  /** The source database, read-only, for row counts. */
  source: Knex;
  /**
   * The stream pipeline whose landing the row counts check: rows with an event time before it
   * observed the changelog (started at the topics' end) were never its to land.
   */
  pipeline?: string;
  expectations?: readonly Expectation[];
}

export interface QualityOutcome {
  errors: string[];
  warnings: string[];
  results: { expectation: string; severity: string; passed: boolean; observed: unknown }[];
}

/** Tables whose day state several expectations read: rebuilt once per gate. */
export function sharedDayStates(expectations: readonly Expectation[]): string[] {
  const reads = new Map<string, number>();
  for (const expectation of expectations) {
    if (['not_null', 'range', 'references'].includes(expectation.kind)) {
      const { table } = expectation as { table: string };
      reads.set(table, (reads.get(table) ?? 0) + 1);
    }
  }
  return [...reads].filter(([, count]) => count > 1).map(([table]) => table);
}

/** The quality gate of a consolidation run, bound to its dependencies. */
export function createQualityGateActivities(deps: QualityGateDependencies) {
  const { warehouse, source } = deps;
  const expectations = deps.expectations ?? EXPECTATIONS;

  return {
    /**
     * Checks every expectation over the run's day and stores the results; ERRORs block
     * publication. Each check reads the day's rows only (event time in the day), so a day costs
     * the same however long the history behind it; a table's day state read by several checks
     * is rebuilt once.
     */
    async runQualityGate(run: ConsolidationRun, unexplained: number): Promise<QualityOutcome> {
      const scope = {
        from: new Date(run.rangeStart),
        to: new Date(run.rangeEnd),
        cutoff: new Date(run.cutoff),
        snapshot: run.snapshot,
      };
      const pipeline = run.pipeline ?? deps.pipeline;
      const observation = pipeline
        ? await warehouse('stream.pipelines').where({ pipeline }).first('observed_from')
        : undefined;
      const countFrom = new Date(
        Math.max(scope.from.getTime(), new Date(observation?.observed_from ?? 0).getTime()),
      );
      const countScope = { ...scope, from: countFrom < scope.to ? countFrom : scope.to };
      const results = await warehouse.transaction(async (trx) => {
        await trx.raw(`SET LOCAL work_mem = '${CONSOLIDATION_WORK_MEM}'`);
        await trx.raw('SET LOCAL jit = off');
        const query = async <Row>({ sql, bindings }: SqlStatement) =>
          ((await trx.raw(sql, bindings)).rows as Row[])[0];
        const states = new Map<string, string>();
        for (const table of sharedDayStates(expectations)) {
          const relation = `quality_state_${states.size}`;
          const { sql, bindings } = dayStateSql(table, scope);
          await trx.raw(`CREATE TEMPORARY TABLE ?? ON COMMIT DROP AS ${sql}`, [
            relation,
            ...bindings,
          ]);
          states.set(table, relation);
        }
        const checked: QualityOutcome['results'] = [];
        for (const expectation of expectations) {
          const name = expectationName(expectation);
          let passed: boolean;
          let observed: unknown;
          if (isWarehouseExpectation(expectation)) {
            const row = await query<{ passed: boolean; observed: unknown }>(
              expectationSql(expectation, scope, states),
            );
            passed = row?.passed ?? false;
            observed = row?.observed ?? null;
          } else if (expectation.kind === 'row_count_matches_source') {
            const [schema, table] = expectation.table.split('.') as [string, string];
            // The source's rows of the day by their event time (indexed there).
            const eventTimeField = eventTimeFieldOf(expectation.table) ?? 'created_at';
            const counted = (await source
              .withSchema(schema)
              .from(table)
              .where(eventTimeField, '>=', countScope.from)
              .andWhere(eventTimeField, '<', countScope.to)
              .count({ count: '*' })) as { count: string }[];
            const landed = await query<{
              landed: string;
              dead_lettered: string;
              unattributed: string;
            }>(landedRowCountSql(expectation.table, countScope));
            const sourceRows = Number(counted[0]?.count ?? 0);
            const landedRows = Number(landed?.landed ?? 0);
            const deadLettered = Number(landed?.dead_lettered ?? 0);
            const unaccounted = Math.abs(sourceRows - deadLettered - landedRows);
            passed = unaccounted <= expectation.tolerance * Math.max(sourceRows, 1);
            observed = {
              day: run.day,
              ...(countScope.from > scope.from ? { counted_from: countScope.from } : {}),
              source: sourceRows,
              landed: landedRows,
              dead_lettered: deadLettered,
              // Dead letters not JSON, or whose event time does not parse: no day is theirs.
              unattributed_dead_letters: Number(landed?.unattributed ?? 0),
              unaccounted,
            };
          } else {
            passed = unexplained <= expectation.maxUnexplained;
            observed = { unexplained, max: expectation.maxUnexplained };
          }
          checked.push({ expectation: name, severity: expectation.severity, passed, observed });
        }
        // Dropped now, not only at commit: the caller's transaction may be longer than this one.
        for (const relation of states.values()) await trx.raw('DROP TABLE ??', [relation]);
        return checked;
      });
      await warehouse.transaction(async (trx) => {
        await trx('quality.results').where({ run_id: run.runId }).delete();
        await trx('quality.results').insert(
          results.map((result) => ({
            run_id: run.runId,
            expectation: result.expectation,
            severity: result.severity,
            passed: result.passed,
            observed: JSON.stringify(result.observed),
            message: result.passed ? 'passed' : `failed: ${JSON.stringify(result.observed)}`,
          })),
        );
        await trx('final.runs').where({ run_id: run.runId }).update({ status: 'gated' });
      });
      const failed = (severity: string) =>
        results
          .filter((result) => !result.passed && result.severity === severity)
          .map((r) => r.expectation);
      return { errors: failed('ERROR'), warnings: failed('WARN'), results };
    },
  };
}

export type QualityGateActivities = ReturnType<typeof createQualityGateActivities>;
