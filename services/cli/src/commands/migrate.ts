import { migrateLatest, SOURCE_MIGRATIONS, WAREHOUSE_MIGRATIONS } from '@tidemark/migrations';
import { createDatabase, type Config } from '@tidemark/runtime';

/** Applies pending migrations to the source and warehouse databases; returns what was applied. */
export async function migrateAll(
  config: Config,
): Promise<{ source: string[]; warehouse: string[] }> {
  const source = createDatabase(config.source, 1);
  const warehouse = createDatabase(config.warehouse, 1);
  try {
    return {
      source: await migrateLatest(source, SOURCE_MIGRATIONS),
      warehouse: await migrateLatest(warehouse, WAREHOUSE_MIGRATIONS),
    };
  } finally {
    await Promise.all([source.destroy(), warehouse.destroy()]);
  }
}
