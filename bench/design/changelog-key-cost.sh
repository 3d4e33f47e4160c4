#!/usr/bin/env bash
# PostgreSQL CPU per landed change for two ways of indexing the changelog by row
# (docs/stream-design.md, "Next steps", item 2), on tables already holding PREFILL changes as a
# day partition does by the afternoon:
#   today: unique (lsn, source_table, primary_key, committed_at), hash (primary_key),
#          btree (committed_at);
#   keyed: unique (source_table, primary_key, lsn, committed_at), btree (committed_at): the
#          unique key serves the look-ups by row, and the hash index goes.
# Lands the ROWS latest changes of raw.change_events with COPY in batches of 4,800 (one
# transaction each) after the PREFILL changes before them, then looks up every landed row's
# latest LSN by key (the row-knowledge probe's shape), counting the CPU of every PostgreSQL
# process. Run on a quiet machine with the stack up, after a bench:
# bash bench/design/changelog-key-cost.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=bench/design/lib.sh
. bench/design/lib.sh
PREFILL=${PREFILL:-1000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; "${PSQL[@]}" -c "DROP SCHEMA IF EXISTS changelog_key_cost CASCADE" >/dev/null 2>&1 || true' EXIT
COLS=$CHANGELOG_COLS

"${PSQL[@]}" >/dev/null <<SQL
DROP SCHEMA IF EXISTS changelog_key_cost CASCADE;
CREATE SCHEMA changelog_key_cost;
CREATE TABLE changelog_key_cost.src AS
  SELECT row_number() OVER (ORDER BY id) AS n, $COLS
    FROM (SELECT * FROM raw.change_events ORDER BY id DESC LIMIT $((PREFILL + ROWS))) r;
CREATE INDEX ON changelog_key_cost.src (n);
SQL
found=$("${PSQL[@]}" -Atc "SELECT count(*) FROM changelog_key_cost.src")
[ "$found" -eq $((PREFILL + ROWS)) ] || {
  echo "raw.change_events holds $found changes, fewer than $((PREFILL + ROWS)): run npm run bench first" >&2
  exit 1
}
"${PSQL[@]}" -c "\\copy (SELECT $COLS FROM changelog_key_cost.src WHERE n > $PREFILL ORDER BY n) TO '$WORK/rows.tsv'"
split -l "$BATCH" -d -a 3 "$WORK/rows.tsv" "$WORK/chunk."

create_table() { # name, index statements
  "${PSQL[@]}" >/dev/null <<SQL
$(changelog_table "changelog_key_cost.$1" jsonb)
$2
INSERT INTO changelog_key_cost.$1 ($COLS)
  SELECT $COLS FROM changelog_key_cost.src WHERE n <= $PREFILL ORDER BY n;
VACUUM ANALYZE changelog_key_cost.$1;
SQL
}
copy_batches() {
  for chunk in "$WORK"/chunk.*; do
    "${PSQL[@]}" -c "SET synchronous_commit = off" -c "\\copy changelog_key_cost.$1 ($COLS) FROM '$chunk'"
  done
}
probe_batches() { # each batch's rows: their latest LSN by key
  local batch
  for ((batch = 0; batch < BATCHES; batch++)); do
    "${PSQL[@]}" -o /dev/null -c "
      SELECT w.source_table, w.primary_key, c.lsn
        FROM (SELECT source_table, primary_key::text AS primary_key FROM changelog_key_cost.src
               WHERE n > $PREFILL + $batch * $BATCH AND n <= $PREFILL + ($batch + 1) * $BATCH) AS w
        CROSS JOIN LATERAL (
          SELECT max(c.lsn) AS lsn FROM changelog_key_cost.$1 AS c
           WHERE c.primary_key = w.primary_key::jsonb AND c.source_table = w.source_table) AS c"
  done
}
measure() { measure_per_change "$1" "$ROWS" "${@:2}"; }

echo "PREFILL=$PREFILL ROWS=$ROWS (µs of PostgreSQL CPU per landed change)"
create_table today "
  CREATE UNIQUE INDEX ON changelog_key_cost.today (lsn, source_table, primary_key, committed_at);
  CREATE INDEX ON changelog_key_cost.today USING hash (primary_key);
  CREATE INDEX ON changelog_key_cost.today (committed_at);"
create_table keyed "
  CREATE UNIQUE INDEX ON changelog_key_cost.keyed (source_table, primary_key, lsn, committed_at);
  CREATE INDEX ON changelog_key_cost.keyed (committed_at);"
for round in 1 2; do
  measure "round $round, today: COPY" copy_batches today
  measure "round $round, keyed: COPY" copy_batches keyed
  measure "round $round, today: look-up by key" probe_batches today
  measure "round $round, keyed: look-up by key" probe_batches keyed
  "${PSQL[@]}" -c "DELETE FROM changelog_key_cost.today WHERE id > (SELECT max(id) - $ROWS FROM changelog_key_cost.today)" \
    -c "DELETE FROM changelog_key_cost.keyed WHERE id > (SELECT max(id) - $ROWS FROM changelog_key_cost.keyed)" \
    -c "VACUUM changelog_key_cost.today" -c "VACUUM changelog_key_cost.keyed" >/dev/null
done
"${PSQL[@]}" -Atc "SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class
  WHERE relnamespace = 'changelog_key_cost'::regnamespace AND relkind = 'i' ORDER BY relname"
