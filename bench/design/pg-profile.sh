#!/usr/bin/env bash
# Where PostgreSQL's CPU goes during the stream bench's throughput phase (docs/stream-design.md,
# "Where PostgreSQL's CPU goes"): runs `npm run bench -- --only stream` under a system-wide
# `perf record` with call graphs, takes the samples of PostgreSQL's processes between the
# throughput phase's start and end (from the bench's log) and prints the share of each step of
# PostgreSQL's work that a sample's stack passes through (steps overlap: a COPY's index inserts
# are in both lines). Needs perf (Debian's linux-perf) and a quiet machine.
# Run from the repository root: bash bench/design/pg-profile.sh [more bench flags]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

npm run bench -- --only stream --out "$WORK/stream.json" "$@" >"$WORK/bench.log" 2>&1 &
bench=$!
# Sampled at wall-clock times, so the bench's log places the phase.
perf record -q -F 499 -a -g -k CLOCK_REALTIME -o "$WORK/perf.data" -- \
  bash -c "while kill -0 $bench 2>/dev/null; do sleep 1; done" >/dev/null 2>&1
wait "$bench" || { tail -5 "$WORK/bench.log" >&2; exit 1; }

# The phase: from the throughput pipeline's "joined" to "pipeline throughput measured".
window=$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
  const at = (pred) => lines.map((l) => { try { return JSON.parse(l); } catch { return {}; } })
    .find(pred)?.time;
  const from = at((e) => e.message === "pipeline joined" && /throughput$/.test(e.pipeline ?? ""));
  const to = at((e) => e.message === "pipeline throughput measured");
  if (!from || !to) process.exit(1);
  process.stdout.write(`${Date.parse(from) / 1000},${Date.parse(to) / 1000}`);
' "$WORK/bench.log") || { echo "the bench's log does not show its throughput phase" >&2; exit 1; }

perf script -i "$WORK/perf.data" --time "$window" --comm postgres -F ip,sym 2>/dev/null |
  python3 -c '
import re, sys
steps = [
    ("COPY into the changelog", "CopyFrom"),
    ("  jsonb input (row images, keys)", "jsonb_in"),
    ("  hash index inserts", "hashinsert"),
    ("  B-tree index inserts", "btinsert"),
    ("  heap inserts", "heap_insert"),
    ("    TOAST compression", "toast_compress_datum"),
    ("scans (look-ups, reads)", "ExecScan"),
    ("autovacuum: analyze", "analyze_rel"),
    ("autovacuum: vacuum", "heap_vacuum_rel"),
    ("planning", "pg_plan_queries"),
    ("parsing", "pg_parse_query"),
    ("logical decoding (Debezium)", "exec_replication_command"),
    ("WAL writer", "WalWriterMain"),
    ("checkpointer", "CheckpointerMain"),
    ("commit", "CommitTransactionCommand"),
]
stacks, current = [], set()
for line in sys.stdin:
    if not line.strip():
        if current: stacks.append(current)
        current = set()
        continue
    parts = line.split(None, 1)
    if len(parts) == 2: current.add(re.sub(r"\+0x[0-9a-f]+$", "", parts[1].strip()))
if current: stacks.append(current)
if not stacks: sys.exit("no PostgreSQL samples in the throughput phase")
print(f"{len(stacks)} samples of PostgreSQL processes in the throughput phase")
for label, symbol in steps:
    share = sum(1 for s in stacks if symbol in s) / len(stacks)
    print(f"{100 * share:5.1f} %  {label}")
'
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const c = r.cpu_us_per_change;
  console.log(`bench: ${r.pipeline_eps} events/s, ${c.total} us per change (PostgreSQL ${c.by_process.postgresql})`);
' "$WORK/stream.json"
