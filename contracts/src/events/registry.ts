import type { EventContract } from './contract';
import { ordersV1, ordersV2 } from './shop-orders';
import { paymentsV1 } from './shop-payments';

/** Every version of every event contract, oldest first per table. Published versions never change. */
export const EVENT_CONTRACTS: readonly EventContract[] = [ordersV1, ordersV2, paymentsV1];

/** Every version of a table's contract, oldest first. */
export function contractVersions(table: string): EventContract[] {
  return EVENT_CONTRACTS.filter((contract) => contract.table === table);
}

const CURRENT_CONTRACTS = new Map(EVENT_CONTRACTS.map((contract) => [contract.table, contract]));

/** The newest contract version of a captured table, or undefined if the table has none. */
export function currentContract(table: string): EventContract | undefined {
  // The list is oldest first per table, so the map keeps each table's last version.
  return CURRENT_CONTRACTS.get(table);
}
