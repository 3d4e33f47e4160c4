import type { Knex } from 'knex';

/** Creates the raw changelog's daily partitions the batches need, once per day and process. */
export class ChangelogPartitions {
  private readonly created = new Set<string>();

  constructor(private readonly warehouse: Knex) {}

  /** @param days UTC days (yyyy-mm-dd) of the changes' source commits */
  async ensure(days: readonly string[]): Promise<void> {
    const missing = days.filter((day) => !this.created.has(day));
    if (missing.length === 0) return;
    await this.warehouse.raw('SELECT raw.ensure_change_event_partitions(?::date[])', [missing]);
    for (const day of missing) this.created.add(day);
  }
}
