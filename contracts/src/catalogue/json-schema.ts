import { z } from 'zod';
import type { EventContract } from '../events/contract';

/** A JSON Schema document, as the compatibility checker and the snapshots hold it. */
export type JsonSchemaDocument = Record<string, unknown>;

/**
 * The JSON Schema a contract version emits: the input side of its row (what Debezium writes),
 * with the contract's metadata as `x-tidemark-*` annotations.
 */
export function contractJsonSchema(contract: EventContract): JsonSchemaDocument {
  const { $schema, ...row } = z.toJSONSchema(contract.row, {
    io: 'input',
    target: 'draft-2020-12',
  }) as JsonSchemaDocument;
  return {
    $schema,
    title: `${contract.table} v${contract.version}`,
    ...row,
    'x-tidemark-primary-key': [...contract.primaryKey],
    'x-tidemark-event-time': contract.eventTimeField,
    'x-tidemark-idempotency-key': [...contract.idempotencyKey],
    'x-tidemark-owner': contract.owner,
    'x-tidemark-pii': [...contract.piiFields],
    'x-tidemark-compatibility': contract.compatibility,
  };
}

/** Where a version's snapshot is committed, relative to contracts/schemas/. */
export function snapshotPath(contract: Pick<EventContract, 'table' | 'version'>): string {
  return `${contract.table}/v${contract.version}.json`;
}

/** Canonical text of a JSON document (sorted keys), so snapshots diff cleanly and compare exactly. */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
