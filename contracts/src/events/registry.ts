import type { EventContract } from './contract';
import { ordersV1 } from './shop-orders';
import { paymentsV1 } from './shop-payments';

/** Every version of every event contract, oldest first per table. */
export const EVENT_CONTRACTS: readonly EventContract[] = [ordersV1, paymentsV1];

/** The newest contract version of a captured table, or undefined if the table has none. */
export function currentContract(table: string): EventContract | undefined {
  return EVENT_CONTRACTS.filter((contract) => contract.table === table).at(-1);
}
