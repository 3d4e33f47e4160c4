import type { Knex } from 'knex';

// Each reconciled window says in words what explains its difference ("session merged from 2
// provisional by 3 late changes of shop.orders (+3)"), or, when nothing does, what the
// reconciliation compared: the audit shows it beside the cause.

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE audit.reconciliation ADD COLUMN explanation text');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE audit.reconciliation DROP COLUMN explanation');
}
