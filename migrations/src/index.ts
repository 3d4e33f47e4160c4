export { migrateLatest, rollbackAll, SOURCE_MIGRATIONS, WAREHOUSE_MIGRATIONS } from './migrate';
export type { Migration } from './migrate';
