#!/usr/bin/env bash
# PostgreSQL CPU per change of the stream's row knowledge (stream.row_versions: each row's last
# applied LSN, probed and advanced in one statement per batch), for ways of keying it
# (docs/stream-design.md, "What it is worth"). Each table is first filled with PREFILL rows, as a
# warehouse that has run for a while holds, then takes batches of 4,800 changes, one transaction
# each, 88 % of them rows it has never seen (the bench's mix), counting the CPU of every
# PostgreSQL process.
#   text: today's key, (pipeline, source_table, primary_key) as text;
#   md5:  (pipeline id, md5 of table and key as a uuid), the hash computed by PostgreSQL;
#   uuid: the same key with the hash computed by the caller (sent as uuids).
# Run on a quiet machine with the stack up: bash bench/design/row-knowledge-cost.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=bench/design/lib.sh
. bench/design/lib.sh
PREFILL=${PREFILL:-1000000}
trap '"${PSQL[@]}" -c "DROP SCHEMA IF EXISTS row_knowledge_cost CASCADE" >/dev/null 2>&1 || true' EXIT
PIPELINE="bench-throughput-0b5e2a7c-93f1-4d1e-8a55-1c2f3e4d5a6b"

"${PSQL[@]}" >/dev/null <<SQL
DROP SCHEMA IF EXISTS row_knowledge_cost CASCADE;
CREATE SCHEMA row_knowledge_cost;
-- The batches: new rows, and updates of rows already known (12 %).
CREATE TABLE row_knowledge_cost.changes AS
  SELECT n, (n - 1) / $BATCH AS batch, 'shop.orders'::text AS source_table,
         CASE WHEN n % 8 = 0 THEN json_build_object('id', md5('old' || n)::uuid)::text
              ELSE json_build_object('id', gen_random_uuid())::text END AS primary_key,
         1000000000 + n AS lsn
    FROM generate_series(1, $ROWS) AS n;
ALTER TABLE row_knowledge_cost.changes
  ADD COLUMN row_key uuid GENERATED ALWAYS AS (md5(source_table || E'\\\\x01' || primary_key)::uuid) STORED;
CREATE INDEX ON row_knowledge_cost.changes (batch, n);
ANALYZE row_knowledge_cost.changes;

CREATE TABLE row_knowledge_cost.text (
  pipeline text NOT NULL, source_table text NOT NULL, primary_key text NOT NULL,
  lsn bigint NOT NULL, PRIMARY KEY (pipeline, source_table, primary_key));
CREATE TABLE row_knowledge_cost.md5 (
  pipeline_id integer NOT NULL, row_key uuid NOT NULL, lsn bigint NOT NULL,
  PRIMARY KEY (pipeline_id, row_key));
CREATE TABLE row_knowledge_cost.uuid (LIKE row_knowledge_cost.md5 INCLUDING ALL);
-- What a warehouse that has run for a while holds: this pipeline's old rows (those the updates
-- touch among them) and another pipeline's.
INSERT INTO row_knowledge_cost.text
  SELECT CASE WHEN n % 2 = 0 THEN '$PIPELINE' ELSE 'bench-throughput-other' END, 'shop.orders',
         json_build_object('id', md5('old' || n)::uuid)::text, n
    FROM generate_series(1, $PREFILL) AS n;
INSERT INTO row_knowledge_cost.md5
  SELECT CASE WHEN pipeline = '$PIPELINE' THEN 1 ELSE 2 END,
         md5(source_table || E'\\\\x01' || primary_key)::uuid, lsn
    FROM row_knowledge_cost.text;
INSERT INTO row_knowledge_cost.uuid SELECT * FROM row_knowledge_cost.md5;
VACUUM ANALYZE row_knowledge_cost.text, row_knowledge_cost.md5, row_knowledge_cost.uuid;
SQL

# The statement of services/stream/src/row-versions.ts, per key shape: probe each row of the
# batch by its key, then advance it, in one statement.
statement() { # shape, batch
  case $1 in
    text) echo "WITH wanted AS (
        SELECT source_table, primary_key, lsn, n FROM row_knowledge_cost.changes WHERE batch = $2
      ), stored AS (
        SELECT w.source_table, w.primary_key, v.lsn FROM wanted w CROSS JOIN LATERAL (
          SELECT lsn FROM row_knowledge_cost.text v WHERE v.pipeline = '$PIPELINE'
             AND v.source_table = w.source_table AND v.primary_key = w.primary_key LIMIT 1) v
      ), advanced AS (
        INSERT INTO row_knowledge_cost.text (pipeline, source_table, primary_key, lsn)
        SELECT '$PIPELINE', source_table, primary_key, lsn FROM wanted ORDER BY n
        ON CONFLICT (pipeline, source_table, primary_key)
          DO UPDATE SET lsn = GREATEST(row_knowledge_cost.text.lsn, excluded.lsn))
      SELECT count(*) FROM stored" ;;
    md5 | uuid)
      local key="md5(source_table || E'\\\\x01' || primary_key)::uuid"
      [ "$1" = uuid ] && key="row_key"
      echo "WITH wanted AS (
        SELECT $key AS row_key, lsn, n FROM row_knowledge_cost.changes WHERE batch = $2
      ), stored AS (
        SELECT w.row_key, v.lsn FROM wanted w CROSS JOIN LATERAL (
          SELECT lsn FROM row_knowledge_cost.$1 v WHERE v.pipeline_id = 1
             AND v.row_key = w.row_key LIMIT 1) v
      ), advanced AS (
        INSERT INTO row_knowledge_cost.$1 (pipeline_id, row_key, lsn)
        SELECT 1, row_key, lsn FROM wanted ORDER BY n
        ON CONFLICT (pipeline_id, row_key)
          DO UPDATE SET lsn = GREATEST(row_knowledge_cost.$1.lsn, excluded.lsn))
      SELECT count(*) FROM stored" ;;
  esac
}

run_batches() { # shape
  local batch
  for ((batch = 0; batch < BATCHES; batch++)); do
    "${PSQL[@]}" -c "SET synchronous_commit = off" -c "SET enable_seqscan = off" \
      -c "$(statement "$1" "$batch")" >/dev/null
  done
}

echo "row knowledge: $BATCHES batches of $BATCH changes over $PREFILL stored rows (PostgreSQL CPU)"
for shape in text md5 uuid; do
  measure_per_change "$shape" "$ROWS" run_batches "$shape"
done
"${PSQL[@]}" -Atc "SELECT 'index bytes per row: text ' ||
    round(pg_relation_size('row_knowledge_cost.text_pkey') / count(*)::numeric) FROM row_knowledge_cost.text"
"${PSQL[@]}" -Atc "SELECT 'index bytes per row: md5 ' ||
    round(pg_relation_size('row_knowledge_cost.md5_pkey') / count(*)::numeric) FROM row_knowledge_cost.md5"
