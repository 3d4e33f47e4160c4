-- Roles and databases of the tidemark stack, least privilege. Idempotent: the native stack runs
-- it on every `up` (so a changed password applies); docker-compose runs it once on a new volume.
-- Passwords come from the environment (infra/dev-credentials.env holds the development ones).
--   tidemark_app       the demo application: owns the `source` database and its `shop` schema
--   tidemark_debezium  logical replication of `source` (physical replication is refused by
--                      pg_hba), plus SELECT on the captured tables (granted by migration)
--   tidemark_platform  owns the `warehouse` database and its schemas: migrations only
--   tidemark_stream    the stream: writes raw, ops, stream, provisional (grants by migration)
--   tidemark_worker    the Temporal worker: writes final, quality, audit; reads the source's
--                      captured tables
--   tidemark_reader    reports: reads the warehouse, writes nothing
SET client_min_messages = warning;
\getenv app_password TIDEMARK_APP_PASSWORD
\getenv debezium_password TIDEMARK_DEBEZIUM_PASSWORD
\getenv platform_password TIDEMARK_PLATFORM_PASSWORD
\getenv stream_password TIDEMARK_PG_STREAM_PASSWORD
\getenv worker_password TIDEMARK_PG_WORKER_PASSWORD
\getenv reader_password TIDEMARK_PG_READER_PASSWORD

DO $$
DECLARE
  role text;
BEGIN
  FOREACH role IN ARRAY ARRAY['tidemark_app', 'tidemark_debezium', 'tidemark_platform',
      'tidemark_stream', 'tidemark_worker', 'tidemark_reader'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', role);
    END IF;
  END LOOP;
END
$$;
ALTER ROLE tidemark_debezium REPLICATION;

SET password_encryption = 'scram-sha-256';
ALTER ROLE tidemark_app PASSWORD :'app_password';
ALTER ROLE tidemark_debezium PASSWORD :'debezium_password';
ALTER ROLE tidemark_platform PASSWORD :'platform_password';
ALTER ROLE tidemark_stream PASSWORD :'stream_password';
ALTER ROLE tidemark_worker PASSWORD :'worker_password';
ALTER ROLE tidemark_reader PASSWORD :'reader_password';

-- The owner hands the batch worker the backfill snapshot tables it partitions and drops (only a
-- table's owner may): altering an owner takes membership of the new owner.
GRANT tidemark_worker TO tidemark_platform;

SELECT 'CREATE DATABASE source OWNER tidemark_app'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'source') \gexec
SELECT 'CREATE DATABASE warehouse OWNER tidemark_platform'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'warehouse') \gexec

REVOKE ALL ON DATABASE source FROM PUBLIC;
REVOKE ALL ON DATABASE warehouse FROM PUBLIC;
GRANT CONNECT ON DATABASE source TO tidemark_debezium, tidemark_platform, tidemark_worker;
GRANT CONNECT ON DATABASE warehouse TO tidemark_stream, tidemark_worker, tidemark_reader;
-- The worker's consolidation builds temporary tables.
GRANT TEMPORARY ON DATABASE warehouse TO tidemark_worker;
