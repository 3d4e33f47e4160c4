import { EXPECTATIONS, expectationName, type Expectation } from '@tidemark/contracts';
import type { Knex } from 'knex';
import {
  expectationSql,
  isWarehouseExpectation,
  landedRowCountSql,
} from '../consolidation/quality-sql';
import type { ConsolidationRun } from './run';

export interface QualityGateDependencies {
  warehouse: Knex;
  /** The source database, read-only, for row counts. */
  source: Knex;
  expectations?: readonly Expectation[];
}

export interface QualityOutcome {
  errors: string[];
  warnings: string[];
  results: { expectation: string; severity: string; passed: boolean; observed: unknown }[];
}

/** The quality gate of a consolidation run, bound to its dependencies. */
export function createQualityGateActivities(deps: QualityGateDependencies) {
  const { warehouse, source } = deps;
  const expectations = deps.expectations ?? EXPECTATIONS;

  return {
    /** Checks every expectation and stores the results; ERRORs block publication. */
    async runQualityGate(run: ConsolidationRun, unexplained: number): Promise<QualityOutcome> {
      const cutoff = new Date(run.cutoff);
      const results: QualityOutcome['results'] = [];
      for (const expectation of expectations) {
        const name = expectationName(expectation);
        let passed: boolean;
        let observed: unknown;
        if (isWarehouseExpectation(expectation)) {
          const { sql, bindings } = expectationSql(expectation, cutoff);
          const [row] = (await warehouse.raw(sql, bindings)).rows as {
            passed: boolean;
            observed: unknown;
          }[];
          passed = row?.passed ?? false;
          observed = row?.observed ?? null;
        } else if (expectation.kind === 'row_count_matches_source') {
          const [schema, table] = expectation.table.split('.') as [string, string];
          const counted = (await source.withSchema(schema).from(table).count({ count: '*' })) as {
            count: string;
          }[];
          const { sql, bindings } = landedRowCountSql(expectation.table);
          const [landed] = (await warehouse.raw(sql, bindings)).rows as {
            landed: string;
            dead_lettered: string;
          }[];
          const sourceRows = Number(counted[0]?.count ?? 0);
          const landedRows = Number(landed?.landed ?? 0);
          const deadLettered = Number(landed?.dead_lettered ?? 0);
          const unaccounted = Math.abs(sourceRows - deadLettered - landedRows);
          passed = unaccounted <= expectation.tolerance * Math.max(sourceRows, 1);
          observed = {
            source: sourceRows,
            landed: landedRows,
            dead_lettered: deadLettered,
            unaccounted,
          };
        } else {
          passed = unexplained <= expectation.maxUnexplained;
          observed = { unexplained, max: expectation.maxUnexplained };
        }
        results.push({ expectation: name, severity: expectation.severity, passed, observed });
      }
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
