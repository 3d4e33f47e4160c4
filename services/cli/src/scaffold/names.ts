import { TidemarkError } from '@tidemark/runtime';

// The names a captured table gives the files and identifiers generated for it.

export interface TableNames {
  /** `shop.gift_cards` */
  table: string;
  schema: string;
  name: string;
  /** `shop-gift-cards`: the contract's file and the migration's suffix. */
  fileStem: string;
  /** `giftCards`: the contract versions are `giftCardsV1`, `giftCardsV2`, ... */
  identifier: string;
}

const QUALIFIED = /^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$/;

export function tableNames(table: string): TableNames {
  const match = QUALIFIED.exec(table);
  if (!match) {
    throw new TidemarkError(
      'BAD_INPUT',
      `expected a table as schema.table in lower case, e.g. shop.refunds, got ${JSON.stringify(table)}`,
    );
  }
  const [, schema = '', name = ''] = match;
  return {
    table,
    schema,
    name,
    fileStem: `${schema}-${name}`.replaceAll('_', '-'),
    identifier: camelCase(name),
  };
}

export function camelCase(snake: string): string {
  return snake.replace(/_+([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** A contract version's exported name: `refundsV2`. */
export function contractIdentifier(names: TableNames, version: number): string {
  return `${names.identifier}V${version}`;
}

/** The next migration's number, after the highest of the names given (`0004-...`). */
export function nextMigrationNumber(existing: readonly string[]): string {
  const highest = Math.max(0, ...existing.map((name) => Number.parseInt(name, 10) || 0));
  return String(highest + 1).padStart(4, '0');
}
