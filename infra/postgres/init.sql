-- Roles and databases of the tidemark stack, least privilege. Idempotent: the native stack runs
-- it on every `up`; docker-compose runs it once from /docker-entrypoint-initdb.d.
--   tidemark_app       the demo application: owns the `source` database and its `shop` schema
--   tidemark_debezium  replication only, plus SELECT on the captured tables (granted by migration)
--   tidemark_platform  the data platform: owns the `warehouse` database, reads `source`
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tidemark_app') THEN
    CREATE ROLE tidemark_app LOGIN PASSWORD 'tidemark_app';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tidemark_debezium') THEN
    CREATE ROLE tidemark_debezium LOGIN REPLICATION PASSWORD 'tidemark_debezium';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tidemark_platform') THEN
    CREATE ROLE tidemark_platform LOGIN PASSWORD 'tidemark_platform';
  END IF;
END
$$;

SELECT 'CREATE DATABASE source OWNER tidemark_app'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'source') \gexec
SELECT 'CREATE DATABASE warehouse OWNER tidemark_platform'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'warehouse') \gexec

REVOKE ALL ON DATABASE source FROM PUBLIC;
REVOKE ALL ON DATABASE warehouse FROM PUBLIC;
GRANT CONNECT ON DATABASE source TO tidemark_debezium, tidemark_platform;
