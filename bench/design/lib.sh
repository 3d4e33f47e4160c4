# shellcheck shell=bash
# What the design measurements share: psql on the warehouse as its owner, and the CPU of every
# PostgreSQL process. Sourced from the repository root.
# shellcheck source=infra/env.sh
. infra/env.sh
export PGPASSWORD="${TIDEMARK_PLATFORM_PASSWORD}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$TIDEMARK_PG_HOST" -p "$TIDEMARK_PG_PORT" -U tidemark_platform warehouse)
ROWS=${ROWS:-96000}
BATCH=4800
BATCHES=$(((ROWS + BATCH - 1) / BATCH))

# Clock ticks (10 ms) of every process the PostgreSQL server runs as, with the ticks of those
# that exited since it started (the postmaster reaps its backends: cutime and cstime), so a
# backend that served one psql call and exited during a measurement is counted.
pg_cpu_ticks() {
  local total=0 pid owner
  owner=$(stat -c %U "$TIDEMARK_STATE_DIR/postgres/data" 2>/dev/null || echo postgres)
  for pid in $(pgrep -u "$owner" postgres); do
    read -r -a f <"/proc/$pid/stat" 2>/dev/null || continue
    total=$((total + f[13] + f[14] + f[15] + f[16]))
  done
  echo "$total"
}

# Prints a label and the PostgreSQL CPU per change that running the command cost, over $2 changes.
measure_per_change() {
  local label=$1 changes=$2 before after
  shift 2
  sleep 2
  before=$(pg_cpu_ticks)
  "$@"
  after=$(pg_cpu_ticks)
  awk -v ticks=$((after - before)) -v rows="$changes" -v label="$label" \
    'BEGIN { printf "%-58s %5.1f us/change\n", label, ticks * 10000 / rows }'
}
