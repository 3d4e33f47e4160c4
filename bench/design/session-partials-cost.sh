#!/usr/bin/env bash
# PostgreSQL CPU per change of keeping session partials (docs/stream-design.md, "what must be
# measured"): per batch of 4,800 real order changes, upsert each touched customer's partial (its
# event times on that partition) in one statement, then read back every partition's partial of
# those customers as the emitter would. Uses the orders already in raw.change_events (run a bench
# first). Run on a quiet machine with the stack up: bash bench/design/session-partials-cost.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=bench/design/lib.sh
. bench/design/lib.sh
trap '"${PSQL[@]}" -c "DROP SCHEMA IF EXISTS session_cost CASCADE" >/dev/null 2>&1 || true' EXIT


# Each batch's touched (partition, customer) with the customer's event times on that partition so
# far (the last 64: a partial holds only open sessions), as the owner would hold them in memory.
"${PSQL[@]}" >/dev/null <<SQL
DROP SCHEMA IF EXISTS session_cost CASCADE;
CREATE SCHEMA session_cost;
CREATE TABLE session_cost.changes AS
  SELECT (row_number() OVER (ORDER BY id) - 1) / $BATCH AS batch, kafka_topic AS topic,
         kafka_partition AS partition, after->>'customer_id' AS customer,
         (extract(epoch FROM (after->>'created_at')::timestamptz) * 1000)::bigint AS event_ms
    FROM (SELECT * FROM raw.change_events WHERE source_table = 'shop.orders' AND after IS NOT NULL
          ORDER BY id LIMIT $ROWS) c;
CREATE INDEX ON session_cost.changes (customer, topic, partition, batch);
ANALYZE session_cost.changes;
CREATE TABLE session_cost.touched AS
  SELECT b.batch, t.topic, t.partition, t.customer,
         (SELECT array_agg(event_ms ORDER BY event_ms) FROM (
            SELECT event_ms FROM session_cost.changes h
             WHERE h.topic = t.topic AND h.partition = t.partition AND h.customer = t.customer
               AND h.batch <= b.batch ORDER BY event_ms DESC LIMIT 64) last) AS event_times
    FROM (SELECT DISTINCT batch FROM session_cost.changes) b
    JOIN LATERAL (SELECT DISTINCT topic, partition, customer FROM session_cost.changes c
                   WHERE c.batch = b.batch) t ON true;
CREATE INDEX ON session_cost.touched (batch);
ANALYZE session_cost.touched;
CREATE TABLE session_cost.partials (
  pipeline text NOT NULL, metric text NOT NULL, group_key text NOT NULL, topic text NOT NULL,
  partition integer NOT NULL, event_times bigint[] NOT NULL, measures jsonb,
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (pipeline, metric, group_key, topic, partition));
SQL
changes=$("${PSQL[@]}" -Atc "SELECT count(*) FROM session_cost.changes")
touched=$("${PSQL[@]}" -Atc "SELECT count(*) FROM session_cost.touched")
echo "$changes order changes in $BATCHES batches: $touched partials touched ($(awk -v t="$touched" -v c="$changes" 'BEGIN { printf "%.2f", t / c }') per change)"

run_batches() { # the SQL of one batch, :batch standing for its number
  local batch
  for ((batch = 0; batch < BATCHES; batch++)); do
    "${PSQL[@]}" -c "SET synchronous_commit = off" -c "${1//:batch/$batch}" >/dev/null
  done
}
measure() { measure_per_change "$1" "$changes" run_batches "$2"; }
measure "reading a batch's touched partials (subtract from below)" \
  "SELECT sum(cardinality(event_times)) FROM session_cost.touched WHERE batch = :batch"
measure "upserting a batch's partials (one statement)" \
  "INSERT INTO session_cost.partials (pipeline, metric, group_key, topic, partition, event_times)
     SELECT 'p', 'customer_sessions', customer, topic, partition, event_times
       FROM session_cost.touched WHERE batch = :batch ORDER BY customer
   ON CONFLICT (pipeline, metric, group_key, topic, partition)
     DO UPDATE SET event_times = excluded.event_times, changed_at = clock_timestamp()"
measure "the emitter reading every partition's partial of them" \
  "SELECT p.group_key, count(*), sum(cardinality(p.event_times))
     FROM (SELECT DISTINCT customer FROM session_cost.touched WHERE batch = :batch) t
     JOIN session_cost.partials p
       ON p.pipeline = 'p' AND p.metric = 'customer_sessions' AND p.group_key = t.customer
    GROUP BY p.group_key"
