import type { z } from 'zod';
import type { CompatibilityMode } from '../compat/types';

/** One immutable, numbered version of a source table's event contract. */
export interface EventContract<Row extends z.ZodObject = z.ZodObject> {
  /** The captured table, `schema.table`. */
  table: string;
  version: number;
  row: Row;
  primaryKey: readonly string[];
  eventTimeField: string;
  /** Fields identifying one business operation, so a duplicated operation can be recognised. */
  idempotencyKey: readonly string[];
  owner: string;
  piiFields: readonly string[];
  compatibility: CompatibilityMode;
  /**
   * Whether a truncate of the table is a change the platform accepts (it makes consolidation
   * forget every earlier row). Without it a truncate is a dead letter: Debezium skips truncates
   * by default, so one on the topic is a mistake or a forgery.
   */
  allowsTruncate?: boolean;
}

/**
 * Which contract version a captured table's changes are read with: the newest registered one
 * (`currentContract`), or a team's own registry. Undefined means the table has no contract.
 */
export type ContractOf = (table: string) => EventContract | undefined;

/** Declares a contract, checking that the fields it names exist in its row schema. */
export function defineEventContract<Row extends z.ZodObject>(
  contract: EventContract<Row>,
): EventContract<Row> {
  const fields = new Set(Object.keys(contract.row.shape));
  const named = [
    ...contract.primaryKey,
    contract.eventTimeField,
    ...contract.idempotencyKey,
    ...contract.piiFields,
  ];
  const unknown = named.filter((field) => !fields.has(field));
  if (unknown.length > 0) {
    throw new Error(
      `contract ${contract.table} v${contract.version} names fields its row does not have: ${unknown.join(', ')}`,
    );
  }
  return Object.freeze(contract);
}
