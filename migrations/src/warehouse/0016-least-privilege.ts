import type { Knex } from 'knex';

// Each deployable connects as a role holding only what it uses; the owner (tidemark_platform,
// which runs the migrations) is nobody's runtime role. The roles themselves are created, with
// their passwords, by infra/postgres/init.sql (cluster-wide objects a database owner cannot make).
//   tidemark_stream  reads and writes raw, ops, stream and provisional
//   tidemark_worker  reads everything; writes final, quality and audit, and partitions the
//                    backfill snapshot it builds in final
//   tidemark_reader  reads everything, writes nothing (the CLI's reports)
// Default privileges make tables the owner creates later (new migrations, the changelog's day
// partitions) follow the same rules.

const OWNER = 'tidemark_platform';
const STREAM = 'tidemark_stream';
const WORKER = 'tidemark_worker';
const READER = 'tidemark_reader';
const SCHEMAS = ['raw', 'ops', 'stream', 'provisional', 'final', 'quality', 'audit'] as const;
/** The one role that writes each schema. The worker reads them all; the stream only its own. */
const WRITER: Record<(typeof SCHEMAS)[number], string> = {
  raw: STREAM,
  ops: STREAM,
  stream: STREAM,
  provisional: STREAM,
  final: WORKER,
  quality: WORKER,
  audit: WORKER,
};
const WRITE = 'SELECT, INSERT, UPDATE, DELETE';

/** Grants on existing tables and sequences of a schema, and on those the owner creates later. */
async function grantIn(
  knex: Knex,
  schema: string,
  role: string,
  tablePrivileges: string,
): Promise<void> {
  await knex.raw(`GRANT ${tablePrivileges} ON ALL TABLES IN SCHEMA ?? TO ??`, [schema, role]);
  await knex.raw(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ?? TO ??`, [schema, role]);
  await knex.raw(
    `ALTER DEFAULT PRIVILEGES FOR ROLE ?? IN SCHEMA ?? GRANT ${tablePrivileges} ON TABLES TO ??`,
    [OWNER, schema, role],
  );
  await knex.raw(
    `ALTER DEFAULT PRIVILEGES FOR ROLE ?? IN SCHEMA ?? GRANT USAGE, SELECT ON SEQUENCES TO ??`,
    [OWNER, schema, role],
  );
}

export async function up(knex: Knex): Promise<void> {
  for (const schema of SCHEMAS) {
    await knex.raw('REVOKE ALL ON SCHEMA ?? FROM PUBLIC', [schema]);
    await knex.raw('GRANT USAGE ON SCHEMA ?? TO ??, ??, ??', [schema, STREAM, WORKER, READER]);
    await grantIn(knex, schema, READER, 'SELECT');
    await grantIn(knex, schema, WRITER[schema], WRITE);
    // The worker reads what the stream writes (changelog, dead letters, provisional values).
    if (WRITER[schema] === STREAM) await grantIn(knex, schema, WORKER, 'SELECT');
  }

  // The stream creates the changelog's day partitions as it lands changes; only the table's
  // owner may, so the function runs as its owner, with a search path nobody else can change.
  await knex.raw(`
    ALTER FUNCTION raw.ensure_change_event_partitions(date[])
      SECURITY DEFINER SET search_path = pg_catalog, pg_temp`);
  await knex.raw(
    'REVOKE EXECUTE ON FUNCTION raw.ensure_change_event_partitions(date[]) FROM PUBLIC',
  );
  await knex.raw('GRANT EXECUTE ON FUNCTION raw.ensure_change_event_partitions(date[]) TO ??', [
    STREAM,
  ]);

  // A backfill's state snapshot is one partition per snapshot, which the worker creates, indexes,
  // analyses and drops: all reserved to the partitioned table's owner, so the worker owns it
  // (an unlogged cache of the changelog, not data).
  await knex.raw('GRANT CREATE ON SCHEMA final TO ??', [WORKER]);
  await knex.raw('ALTER TABLE final.state_snapshot_rows OWNER TO ??', [WORKER]);
  const partitions = await knex.raw<{ rows: { relation: string }[] }>(`
    SELECT inhrelid::regclass::text AS relation
      FROM pg_inherits WHERE inhparent = 'final.state_snapshot_rows'::regclass`);
  for (const { relation } of partitions.rows) {
    await knex.raw(`ALTER TABLE ${relation} OWNER TO ??`, [WORKER]);
  }
}

export async function down(knex: Knex): Promise<void> {
  const partitions = await knex.raw<{ rows: { relation: string }[] }>(`
    SELECT inhrelid::regclass::text AS relation
      FROM pg_inherits WHERE inhparent = 'final.state_snapshot_rows'::regclass`);
  for (const { relation } of partitions.rows) {
    await knex.raw(`ALTER TABLE ${relation} OWNER TO ??`, [OWNER]);
  }
  await knex.raw('ALTER TABLE final.state_snapshot_rows OWNER TO ??', [OWNER]);
  await knex.raw('REVOKE CREATE ON SCHEMA final FROM ??', [WORKER]);
  await knex.raw('GRANT EXECUTE ON FUNCTION raw.ensure_change_event_partitions(date[]) TO PUBLIC');
  await knex.raw(
    'ALTER FUNCTION raw.ensure_change_event_partitions(date[]) SECURITY INVOKER RESET ALL',
  );
  for (const schema of SCHEMAS) {
    for (const role of [STREAM, WORKER, READER]) {
      await knex.raw('REVOKE ALL ON ALL TABLES IN SCHEMA ?? FROM ??', [schema, role]);
      await knex.raw('REVOKE ALL ON ALL SEQUENCES IN SCHEMA ?? FROM ??', [schema, role]);
      await knex.raw(
        'ALTER DEFAULT PRIVILEGES FOR ROLE ?? IN SCHEMA ?? REVOKE ALL ON TABLES FROM ??',
        [OWNER, schema, role],
      );
      await knex.raw(
        'ALTER DEFAULT PRIVILEGES FOR ROLE ?? IN SCHEMA ?? REVOKE ALL ON SEQUENCES FROM ??',
        [OWNER, schema, role],
      );
      await knex.raw('REVOKE ALL ON SCHEMA ?? FROM ??', [schema, role]);
    }
  }
}
