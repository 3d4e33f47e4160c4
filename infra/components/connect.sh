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
  # The unpack goal skips archives it has marked as unpacked; the marks must not outlive the cache.
  rm -rf "$CONNECT_PLUGINS" "$TIDEMARK_INFRA/kafka/target/dependency-maven-plugin-markers"
  mvn_quiet -f "$TIDEMARK_INFRA/kafka/pom.xml" dependency:unpack \
    -Dartifact="io.debezium:debezium-connector-postgres:$TIDEMARK_DEBEZIUM_VERSION:tar.gz:plugin" \
    -DoutputDirectory="$CONNECT_PLUGINS" \
    || die "could not resolve the Debezium connector plugin from Maven Central; see $TIDEMARK_LOG_DIR/maven.log"
  touch "$CONNECT_PLUGINS/.complete"
}

# The worker's settings. It and the clients it makes for connectors (producer, consumer, admin)
# authenticate as the connect principal. Connector configs name secrets as ${env:NAME}, which the
# env config provider resolves in the worker; the REST API shows the reference, never the value.
#
# Riding out a broker outage (stack-restarts.int.test.ts kills the broker under load): after
# heartbeat.interval.ms without its group coordinator the worker stops its tasks. A Debezium task
# blocked on the missing broker then needs the broker back to stop; had it been abandoned after
# the default 5 s (task.shutdown.graceful.timeout.ms), its replication connection would stay open
# inside the worker, holding the slot ("replication slot ... is active for PID"), and no new task
# could stream until Connect restarted. 120 s lets it stop cleanly after an outage that long.
# scheduled.rebalance.max.delay.ms=0: the stack runs one worker, which rejoins after such an outage
# as a new member; its leader (itself) would otherwise wait five minutes for the departed member
# before assigning the connector to anyone. A cluster of several workers may want a short delay,
# to ride out one worker's restart.
connect_properties() {
  local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$TIDEMARK_KAFKA_CONNECT_USER\" password=\"$TIDEMARK_KAFKA_CONNECT_PASSWORD\";"
  local client
  cat <<PROPS
bootstrap.servers=127.0.0.1:$TIDEMARK_KAFKA_PORT
PROPS
  for client in "" producer. consumer. admin.; do
    echo "${client}security.protocol=SASL_PLAINTEXT"
    echo "${client}sasl.mechanism=SCRAM-SHA-512"
    echo "${client}sasl.jaas.config=$jaas"
  done
  cat <<PROPS
config.providers=env
config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
config.providers.env.param.allowlist.pattern=^TIDEMARK_DEBEZIUM_PASSWORD$
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
scheduled.rebalance.max.delay.ms=0
task.shutdown.graceful.timeout.ms=120000
listeners=HTTP://127.0.0.1:$TIDEMARK_CONNECT_PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$TIDEMARK_CONNECT_PORT
plugin.path=$CONNECT_PLUGINS
topic.creation.enable=true
PROPS
}

connect_configure() {
  mkdir -p "$CONNECT_HOME"
  (umask 077 && connect_properties >"$CONNECT_HOME/connect-distributed.properties")
  # Holds the connect principal's password.
  chmod 600 "$CONNECT_HOME/connect-distributed.properties"
}

connect_healthy() { curl -fsS --max-time 3 "$CONNECT_URL/" >/dev/null 2>&1; }

connect_up() {
  connect_install
  if pid_alive connect "$CONNECT_MAIN"; then
    if connect_properties | cmp -s - "$CONNECT_HOME/connect-distributed.properties"; then
      log "Kafka Connect already running"
      return 0
    fi
    # A worker started with other settings (one from before authentication, say) restarts.
    log "Kafka Connect settings changed: restarting Kafka Connect"
    connect_down
  fi
  connect_healthy && die "port $TIDEMARK_CONNECT_PORT answers but not with our Kafka Connect; set TIDEMARK_CONNECT_PORT"
  connect_configure
  log "starting Kafka Connect on $CONNECT_URL"
  kafka_java_cmd "$TIDEMARK_CONNECT_HEAP" "$CONNECT_MAIN" "$CONNECT_HOME/connect-distributed.properties"
  # The worker's environment holds the one secret its connectors need, no other principal's.
  spawn connect env $(secrets_except TIDEMARK_DEBEZIUM_PASSWORD) "${JAVA_CMD[@]}"
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
  status=$(curl -sS --max-time 5 "$CONNECT_URL/connectors/$CONNECTOR_NAME/status" 2>/dev/null || true)
  # The verdict comes from node (always present: the project runs on it) parsing the JSON.
  local verdict
  verdict=$(printf '%s' "$status" | node -e '
    let body = "";
    process.stdin.on("data", (chunk) => (body += chunk)).on("end", () => {
      let s;
      try { s = JSON.parse(body); } catch { s = {}; }
      if (!s.connector) return console.log("missing");
      const tasks = s.tasks.map((t) => `${t.id}:${t.state}`).join(" ") || "none";
      const running = s.connector.state === "RUNNING" && s.tasks.length > 0 &&
        s.tasks.every((t) => t.state === "RUNNING");
      console.log(`${running ? "ok" : "down"} ${s.connector.state} (tasks ${tasks})`);
    });')
  case "$verdict" in
    ok\ *) echo "ok    debezium   connector $CONNECTOR_NAME ${verdict#ok }" ;;
    down\ *)
      echo "DOWN  debezium   connector $CONNECTOR_NAME ${verdict#down }"
      return 1
      ;;
    *)
      echo "DOWN  debezium   connector $CONNECTOR_NAME not registered (run: npx tidemark connector register)"
      return 1
      ;;
  esac
}
