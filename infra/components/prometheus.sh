# shellcheck shell=bash
# Prometheus with tidemark's alerting and recording rules (infra/prometheus), from Debian's
# package: `promtool` tests the rules (part of npm test); the server runs only when
# TIDEMARK_PROMETHEUS=1, scraping the stream's and the worker's /metrics on this host.

PROMETHEUS_HOME="$TIDEMARK_STATE_DIR/prometheus"
PROMETHEUS_RULES="$TIDEMARK_INFRA/prometheus/tidemark.rules.yml"
PROMETHEUS_RULE_TESTS="$TIDEMARK_INFRA/prometheus/tidemark.rules.test.yml"
PROMETHEUS_URL="http://127.0.0.1:$TIDEMARK_PROMETHEUS_PORT"

prometheus_install() {
  command -v promtool >/dev/null && command -v prometheus >/dev/null && return 0
  is_root || die "Prometheus is not installed; run as root or: apt-get install prometheus"
  log "installing Prometheus and promtool (Debian's prometheus package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || die "could not install Debian's prometheus package"
}

# Checks the rules, runs their unit tests, and fails if an alert has none.
prometheus_test_rules() {
  prometheus_install
  promtool check rules "$PROMETHEUS_RULES" >/dev/null || die "promtool check rules failed: $PROMETHEUS_RULES"
  (cd "$(dirname "$PROMETHEUS_RULE_TESTS")" && promtool test rules "$(basename "$PROMETHEUS_RULE_TESTS")") \
    || die "the alert rules' unit tests failed"
  local alert untested=()
  for alert in $(sed -n 's/^ *- alert: *//p' "$PROMETHEUS_RULES"); do
    grep -q "alertname: $alert\$" "$PROMETHEUS_RULE_TESTS" || untested+=("$alert")
  done
  [ "${#untested[@]}" -eq 0 ] || die "alerts without a unit test in $PROMETHEUS_RULE_TESTS: ${untested[*]}"
  log "alert rules: checked, and every alert tested"
}

prometheus_config() {
  cat <<CONFIG
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - $PROMETHEUS_RULES
scrape_configs:
  - job_name: tidemark-stream
    static_configs:
      - targets: ['127.0.0.1:$TIDEMARK_METRICS_PORT']
  - job_name: tidemark-worker
    static_configs:
      - targets: ['127.0.0.1:$TIDEMARK_WORKER_METRICS_PORT']
CONFIG
}

prometheus_healthy() { curl -fsS --max-time 3 "$PROMETHEUS_URL/-/ready" >/dev/null 2>&1; }

prometheus_up() {
  [ "$TIDEMARK_PROMETHEUS" = 1 ] || return 0
  prometheus_install
  mkdir -p "$PROMETHEUS_HOME/data"
  if pid_alive prometheus "$PROMETHEUS_HOME"; then
    if prometheus_config | cmp -s - "$PROMETHEUS_HOME/prometheus.yml"; then
      log "Prometheus already running"
      return 0
    fi
    log "Prometheus settings changed: restarting Prometheus"
    prometheus_down
  fi
  port_open 127.0.0.1 "$TIDEMARK_PROMETHEUS_PORT" \
    && die "port $TIDEMARK_PROMETHEUS_PORT answers but not with our Prometheus (a system service from the package?); set TIDEMARK_PROMETHEUS_PORT"
  prometheus_config >"$PROMETHEUS_HOME/prometheus.yml"
  log "starting Prometheus on $PROMETHEUS_URL"
  spawn prometheus env $(secrets_except) prometheus --config.file="$PROMETHEUS_HOME/prometheus.yml" \
    --storage.tsdb.path="$PROMETHEUS_HOME/data" --web.listen-address="127.0.0.1:$TIDEMARK_PROMETHEUS_PORT"
  wait_until 60 Prometheus prometheus_healthy || die "Prometheus did not start; see $TIDEMARK_LOG_DIR/prometheus.log"
}

prometheus_down() { stop_spawned prometheus "$PROMETHEUS_HOME"; }

# Reported only when asked for, or when one is running.
prometheus_status() {
  [ "$TIDEMARK_PROMETHEUS" = 1 ] || pid_alive prometheus "$PROMETHEUS_HOME" || return 0
  if pid_alive prometheus "$PROMETHEUS_HOME" && prometheus_healthy; then
    echo "ok    prometheus $PROMETHEUS_URL ($(grep -c -- '- alert:' "$PROMETHEUS_RULES") alert rules)"
  else
    echo "DOWN  prometheus $PROMETHEUS_URL"
    return 1
  fi
}
