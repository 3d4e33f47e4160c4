# shellcheck shell=bash
# Temporal dev server (real server, SQLite file, Web UI) from the Temporal CLI built with go install.

TEMPORAL_BIN="$TIDEMARK_CACHE_DIR/temporal-cli-$TIDEMARK_TEMPORAL_CLI_VERSION/temporal"
TEMPORAL_HOME="$TIDEMARK_STATE_DIR/temporal"
TEMPORAL_ADDRESS="127.0.0.1:$TIDEMARK_TEMPORAL_PORT"

temporal_install() {
  [ -x "$TEMPORAL_BIN" ] && return 0
  command -v go >/dev/null || die "go not found; install Go (apt-get install golang) to build the Temporal CLI"
  log "building the Temporal CLI $TIDEMARK_TEMPORAL_CLI_VERSION with go install (a few minutes, once)"
  mkdir -p "$TIDEMARK_LOG_DIR"
  GOBIN="$(dirname "$TEMPORAL_BIN")" go install "github.com/temporalio/cli/cmd/temporal@$TIDEMARK_TEMPORAL_CLI_VERSION" \
    >>"$TIDEMARK_LOG_DIR/temporal-build.log" 2>&1 \
    || die "go install of the Temporal CLI failed; see $TIDEMARK_LOG_DIR/temporal-build.log"
}

temporal_healthy() {
  "$TEMPORAL_BIN" operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null | grep -q SERVING
}

temporal_up() {
  temporal_install
  if pid_alive temporal "start-dev"; then
    log "Temporal already running"
    return 0
  fi
  port_open 127.0.0.1 "$TIDEMARK_TEMPORAL_PORT" \
    && die "port $TIDEMARK_TEMPORAL_PORT answers but not with our Temporal; set TIDEMARK_TEMPORAL_PORT"
  mkdir -p "$TEMPORAL_HOME"
  log "starting Temporal on $TEMPORAL_ADDRESS (UI http://127.0.0.1:$TIDEMARK_TEMPORAL_UI_PORT)"
  spawn temporal env $(secrets_except) "$TEMPORAL_BIN" server start-dev --ip 127.0.0.1 --port "$TIDEMARK_TEMPORAL_PORT" \
    --ui-port "$TIDEMARK_TEMPORAL_UI_PORT" --db-filename "$TEMPORAL_HOME/temporal.db" \
    --log-format json --log-level warn
  wait_until 90 Temporal temporal_healthy || die "Temporal did not start; see $TIDEMARK_LOG_DIR/temporal.log"
}

temporal_down() { stop_spawned temporal "start-dev"; }

temporal_status() {
  if pid_alive temporal "start-dev" && temporal_healthy; then
    echo "ok    temporal   $TEMPORAL_ADDRESS SERVING (UI http://127.0.0.1:$TIDEMARK_TEMPORAL_UI_PORT)"
  else
    echo "DOWN  temporal   $TEMPORAL_ADDRESS"
    return 1
  fi
}
