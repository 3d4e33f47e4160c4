#!/usr/bin/env bash
# The native tidemark stack: PostgreSQL, Kafka (KRaft), Kafka Connect + Debezium, Temporal, and
# Prometheus with the alert rules when TIDEMARK_PROMETHEUS=1.
# Usage: infra/stack.sh up|down|status|install|test-rules
# Idempotent: `up` starts only what is not running; `down` stops only what `up` started.
set -euo pipefail

TIDEMARK_INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export TIDEMARK_INFRA
# shellcheck source=infra/env.sh
. "$TIDEMARK_INFRA/env.sh"
# shellcheck source=infra/lib.sh
. "$TIDEMARK_INFRA/lib.sh"
for component in postgres kafka connect temporal prometheus; do
  # shellcheck source=/dev/null
  . "$TIDEMARK_INFRA/components/$component.sh"
done

up() {
  # Creates the `postgres` user the state directory's group may be.
  postgres_install
  state_dir_prepare
  mkdir -p "$TIDEMARK_CACHE_DIR" "$TIDEMARK_LOG_DIR"
  postgres_up
  kafka_up
  connect_up
  temporal_up
  prometheus_up
  log "stack is up; logs in $TIDEMARK_LOG_DIR"
}

down() {
  prometheus_down
  temporal_down
  connect_down
  kafka_down
  postgres_down
}

# Prints one line per component; exits non-zero when any is down.
status() {
  local failed=0
  postgres_status || failed=1
  kafka_status || failed=1
  connect_status || failed=1
  temporal_status || failed=1
  prometheus_status || failed=1
  return "$failed"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  install)
    postgres_install
    connect_install
    temporal_install
    prometheus_install
    ;;
  test-rules) prometheus_test_rules ;;
  *)
    echo "usage: $0 up|down|status|install|test-rules" >&2
    exit 2
    ;;
esac
