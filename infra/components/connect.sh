# shellcheck shell=bash
# Kafka Connect distributed worker (same Kafka jars) with the Debezium PostgreSQL connector plugin.

CONNECT_HOME="$TIDEMARK_STATE_DIR/connect"
CONNECT_PLUGINS="$TIDEMARK_CACHE_DIR/debezium-$TIDEMARK_DEBEZIUM_VERSION"
CONNECT_MAIN=org.apache.kafka.connect.cli.ConnectDistributed
CONNECT_URL="http://127.0.0.1:$TIDEMARK_CONNECT_PORT"
CONNECTOR_NAME=tidemark-shop

# The Debezium PostgreSQL connector's plugin archive, unpacked once into the cache.
connect_install() {
  kafka_install
  [ -f "$CONNECT_PLUGINS/.complete" ] && return 0
  log "resolving the Debezium $TIDEMARK_DEBEZIUM_VERSION PostgreSQL connector from Maven Central"
  rm -rf "$CONNECT_PLUGINS"
  mvn_quiet -f "$TIDEMARK_INFRA/kafka/pom.xml" dependency:unpack \
    -Dartifact="io.debezium:debezium-connector-postgres:$TIDEMARK_DEBEZIUM_VERSION:tar.gz:plugin" \
    -DoutputDirectory="$CONNECT_PLUGINS" \
    || die "could not resolve the Debezium connector plugin from Maven Central"
  touch "$CONNECT_PLUGINS/.complete"
}

connect_configure() {
  mkdir -p "$CONNECT_HOME"
  cat >"$CONNECT_HOME/connect-distributed.properties" <<PROPS
bootstrap.servers=127.0.0.1:$TIDEMARK_KAFKA_PORT
group.id=tidemark-connect
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
config.storage.topic=tidemark-connect-configs
offset.storage.topic=tidemark-connect-offsets
status.storage.topic=tidemark-connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.flush.interval.ms=1000
listeners=HTTP://127.0.0.1:$TIDEMARK_CONNECT_PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$TIDEMARK_CONNECT_PORT
plugin.path=$CONNECT_PLUGINS
topic.creation.enable=true
PROPS
}

connect_healthy() { curl -fsS --max-time 3 "$CONNECT_URL/" >/dev/null 2>&1; }

connect_up() {
  connect_install
  if pid_alive connect "$CONNECT_MAIN"; then
    log "Kafka Connect already running"
    return 0
  fi
  connect_healthy && die "port $TIDEMARK_CONNECT_PORT answers but not with our Kafka Connect; set TIDEMARK_CONNECT_PORT"
  connect_configure
  log "starting Kafka Connect on $CONNECT_URL"
  kafka_java_cmd "$TIDEMARK_CONNECT_HEAP" "$CONNECT_MAIN" "$CONNECT_HOME/connect-distributed.properties"
  spawn connect "${JAVA_CMD[@]}"
  wait_until 180 "Kafka Connect" connect_healthy || die "Kafka Connect did not start; see $TIDEMARK_LOG_DIR/connect.log"
}

connect_down() { stop_spawned connect "$CONNECT_MAIN"; }

# One line for the worker, one for the Debezium connector (registered by `tidemark connector register`).
connect_status() {
  if ! pid_alive connect "$CONNECT_MAIN" || ! connect_healthy; then
    echo "DOWN  connect    $CONNECT_URL"
    echo "DOWN  debezium   connector $CONNECTOR_NAME (worker down)"
    return 1
  fi
  local version status
  version=$(curl -fsS --max-time 3 "$CONNECT_URL/" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
  echo "ok    connect    $CONNECT_URL (Kafka Connect $version)"
  status=$(curl -sS --max-time 5 "$CONNECT_URL/connectors/$CONNECTOR_NAME/status" 2>/dev/null)
  local connector_state task_states
  connector_state=$(printf '%s' "$status" | sed -n 's/.*"connector":{"state":"\([A-Z]*\)".*/\1/p')
  task_states=$(printf '%s' "$status" | grep -o '"state":"[A-Z]*","id":[0-9]*' | sed 's/"state":"\([A-Z]*\)".*/\1/' | sort -u | tr '\n' ' ')
  if [ "$connector_state" = RUNNING ] && [ "$(echo $task_states)" = RUNNING ]; then
    echo "ok    debezium   connector $CONNECTOR_NAME RUNNING (tasks: ${task_states% })"
  elif [ -z "$connector_state" ]; then
    echo "DOWN  debezium   connector $CONNECTOR_NAME not registered (run: npx tidemark connector register)"
    return 1
  else
    echo "DOWN  debezium   connector $CONNECTOR_NAME ${connector_state} (tasks: ${task_states:-none})"
    return 1
  fi
}
