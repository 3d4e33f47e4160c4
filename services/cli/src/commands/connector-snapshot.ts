import { TidemarkError } from '@tidemark/runtime';
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';

// `tidemark connector snapshot <table>...`: asks Debezium for an incremental snapshot of captured
// tables through its signal table. The connector re-reads their rows in chunks while changes go
// on streaming; each row arrives as a read ('r') and lands like any change (a row the stream
// already knows is re-read, not counted twice). This is how rows that were in a table before it
// was captured reach the changelog and the values.

/** The signal row asking for an incremental snapshot of the tables; refuses tables not captured. */
export function snapshotSignal(
  connectorConfig: Record<string, string>,
  tables: readonly string[],
  id: string = randomUUID(),
): { signalTable: string; row: { id: string; type: string; data: string } } {
  const signalTable = connectorConfig['signal.data.collection'];
  if (!signalTable) {
    throw new TidemarkError(
      'BAD_INPUT',
      'the connector config has no signal.data.collection: Debezium cannot be asked for a snapshot',
    );
  }
  if (tables.length === 0) {
    throw new TidemarkError('BAD_INPUT', 'expected the tables to snapshot, e.g. shop.refunds');
  }
  const captured = (connectorConfig['table.include.list'] ?? '')
    .split(',')
    .map((table) => table.trim());
  const missing = tables.filter((table) => !captured.includes(table));
  if (missing.length > 0) {
    throw new TidemarkError(
      'BAD_INPUT',
      `not captured by the connector: ${missing.join(', ')} (its table.include.list: ${captured.join(', ')}); add the table first (tidemark new table, or the connector config) and run tidemark connector register`,
    );
  }
  return {
    signalTable,
    row: {
      id: `snapshot-${id}`,
      type: 'execute-snapshot',
      data: JSON.stringify({ 'data-collections': tables, type: 'incremental' }),
    },
  };
}

/** Writes the signal into the source database; returns its id. */
export async function requestSnapshot(
  source: Knex,
  connectorConfig: Record<string, string>,
  tables: readonly string[],
): Promise<string> {
  const { signalTable, row } = snapshotSignal(connectorConfig, tables);
  await source(signalTable).insert(row);
  return row.id;
}
