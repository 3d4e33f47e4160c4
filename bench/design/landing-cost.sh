#!/usr/bin/env bash
# PostgreSQL CPU per landed change, for ways of landing raw.change_events (docs/stream-design.md).
# Copies ROWS real changes from raw.change_events (run a bench first so there are some) into a
# scratch schema, then lands them in batches of 4,800, one transaction each, into copies of the
# table with different indexes and statements, counting the CPU of every PostgreSQL process.
# Run on a quiet machine with the stack up: bash bench/design/landing-cost.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=bench/design/lib.sh
. bench/design/lib.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; "${PSQL[@]}" -c "DROP SCHEMA IF EXISTS landing_cost CASCADE" >/dev/null 2>&1 || true' EXIT
COLS=$CHANGELOG_COLS

"${PSQL[@]}" >/dev/null <<SQL
DROP SCHEMA IF EXISTS landing_cost CASCADE;
CREATE SCHEMA landing_cost;
CREATE TABLE landing_cost.src AS
  SELECT row_number() OVER (ORDER BY id) AS n, $COLS
    FROM (SELECT * FROM raw.change_events ORDER BY id LIMIT $ROWS) r;
CREATE TABLE landing_cost.docs AS
  SELECT (n - 1) / $BATCH AS batch, jsonb_agg(to_jsonb(s) - 'n' ORDER BY n)::text AS doc
    FROM landing_cost.src s GROUP BY 1;
SQL
found=$("${PSQL[@]}" -Atc "SELECT count(*) FROM landing_cost.src")
[ "$found" -eq "$ROWS" ] || { echo "raw.change_events holds $found changes, fewer than $ROWS: run npm run bench first" >&2; exit 1; }
"${PSQL[@]}" -c "\\copy (SELECT $COLS FROM landing_cost.src ORDER BY n) TO '$WORK/rows.tsv'"
split -l $BATCH -d -a 3 "$WORK/rows.tsv" "$WORK/chunk."

create_table() { # name, type of the row images, index statements
  "${PSQL[@]}" >/dev/null <<SQL
$(changelog_table "landing_cost.$1" "$2")
$3
SQL
}
today_indexes() {
  echo "CREATE UNIQUE INDEX ON landing_cost.$1 (lsn, source_table, primary_key, committed_at);
    CREATE INDEX ON landing_cost.$1 (committed_at); CREATE INDEX ON landing_cost.$1 USING hash (primary_key);"
}
lean_indexes() {
  echo "CREATE INDEX ON landing_cost.$1 USING brin (committed_at); CREATE INDEX ON landing_cost.$1 USING hash (primary_key);"
}
copy_batches() {
  for chunk in "$WORK"/chunk.*; do
    "${PSQL[@]}" -c "SET synchronous_commit = off" -c "\\copy landing_cost.$1 ($COLS) FROM '$chunk'"
  done
}
insert_batches() { # today's statement: the batch as one JSON document
  local batch
  for ((batch = 0; batch < BATCHES; batch++)); do
    "${PSQL[@]}" -c "SET synchronous_commit = off" -c "
      INSERT INTO landing_cost.$1 ($COLS)
      SELECT c->>'source_table', c->>'op', c->'primary_key', (c->>'lsn')::bigint,
        (c->>'tx_id')::bigint, (c->>'committed_at')::timestamptz, (c->>'captured_at')::timestamptz,
        nullif(c->'before', 'null'), nullif(c->'after', 'null'), (c->>'contract_version')::integer,
        c->>'kafka_topic', (c->>'kafka_partition')::integer, (c->>'kafka_offset')::bigint,
        (c->>'kafka_timestamp')::timestamptz
      FROM jsonb_array_elements((SELECT doc FROM landing_cost.docs WHERE batch = $batch)::jsonb) AS landed(c)
      ON CONFLICT (lsn, source_table, primary_key, committed_at) DO NOTHING"
  done
}
insert_batches_into_raw() { # today's statement into raw.change_events itself, rolled back
  local batch
  for ((batch = 0; batch < BATCHES; batch++)); do
    "${PSQL[@]}" -c "SET synchronous_commit = off" -c "BEGIN" -c "
      INSERT INTO raw.change_events ($COLS)
      SELECT c->>'source_table', c->>'op', c->'primary_key', (c->>'lsn')::bigint + 1000000000000,
        (c->>'tx_id')::bigint, (c->>'committed_at')::timestamptz, (c->>'captured_at')::timestamptz,
        nullif(c->'before', 'null'), nullif(c->'after', 'null'), (c->>'contract_version')::integer,
        c->>'kafka_topic', (c->>'kafka_partition')::integer, (c->>'kafka_offset')::bigint,
        (c->>'kafka_timestamp')::timestamptz
      FROM jsonb_array_elements((SELECT doc FROM landing_cost.docs WHERE batch = $batch)::jsonb) AS landed(c)
      ON CONFLICT (lsn, source_table, primary_key, committed_at) DO NOTHING" -c "ROLLBACK"
  done
}
measure() { measure_per_change "$1" "$ROWS" "${@:2}"; }

create_table sessions jsonb ""
measure "a psql session per batch, doing nothing" bash -c "for c in $WORK/chunk.*; do ${PSQL[*]} -c 'select 1' >/dev/null; done"
create_table today jsonb "$(today_indexes today)"
measure "today: INSERT from a JSON document, 3 indexes" insert_batches today
measure "today, into raw.change_events itself (rolled back)" insert_batches_into_raw
create_table copy3 jsonb "$(today_indexes copy3)"
measure "COPY, the same 3 indexes" copy_batches copy3
create_table lean jsonb "$(lean_indexes lean)"
measure "COPY, BRIN(committed_at) + hash(primary_key)" copy_batches lean
create_table lean_json json "$(lean_indexes lean_json)"
measure "COPY, as above, row images json not jsonb" copy_batches lean_json
create_table bare jsonb ""
measure "COPY, no index" copy_batches bare
