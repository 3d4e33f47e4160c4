# shellcheck shell=bash
# Apache Kafka broker in KRaft mode (combined broker + controller), from Maven Central jars.

KAFKA_LIBS="$TIDEMARK_CACHE_DIR/kafka-$TIDEMARK_KAFKA_VERSION/libs"
KAFKA_HOME="$TIDEMARK_STATE_DIR/kafka"
KAFKA_MAIN=kafka.Kafka

java_check() {
  command -v java >/dev/null || die "java not found; install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found; install Maven (apt-get install maven)"
}

# Resolves the broker and Connect runtime jars (infra/kafka/pom.xml) once into the cache.
kafka_install() {
  java_check
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  log "resolving Kafka $TIDEMARK_KAFKA_VERSION jars from Maven Central"
  rm -rf "$KAFKA_LIBS"
  mvn_quiet -f "$TIDEMARK_INFRA/kafka/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$TIDEMARK_KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" \
    || die "could not resolve the Kafka jars from Maven Central; see $TIDEMARK_LOG_DIR/maven.log"
  touch "$KAFKA_LIBS/.complete"
}

# Fills JAVA_CMD with the java command line running a main class from the Kafka jars; the
# heap setting is split into its options on purpose.
kafka_java_cmd() {
  local heap=$1
  shift
  read -r -a JAVA_CMD <<<"java $heap"
  JAVA_CMD+=(-XX:+UseG1GC -Djava.awt.headless=true "-Dkafka.logs.dir=$TIDEMARK_LOG_DIR"
    "-Dlog4j.configuration=file:$KAFKA_HOME/log4j.properties" -cp "$KAFKA_LIBS/*" "$@")
}

kafka_configure() {
  mkdir -p "$KAFKA_HOME/data"
  cp "$TIDEMARK_INFRA/kafka/log4j.properties" "$KAFKA_HOME/log4j.properties"
  cat >"$KAFKA_HOME/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TIDEMARK_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$TIDEMARK_KAFKA_PORT,CONTROLLER://127.0.0.1:$TIDEMARK_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$TIDEMARK_KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_HOME/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
  if [ ! -f "$KAFKA_HOME/data/meta.properties" ]; then
    local cluster_id
    kafka_java_cmd -Xmx256m kafka.tools.StorageTool random-uuid
    cluster_id=$("${JAVA_CMD[@]}" 2>/dev/null | tail -n 1)
    log "formatting Kafka storage (cluster $cluster_id)"
    kafka_java_cmd -Xmx256m kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$KAFKA_HOME/server.properties"
    "${JAVA_CMD[@]}" >>"$TIDEMARK_LOG_DIR/kafka.log" 2>&1 \
      || die "formatting Kafka storage failed; see $TIDEMARK_LOG_DIR/kafka.log"
  fi
}

kafka_healthy() { port_open 127.0.0.1 "$TIDEMARK_KAFKA_PORT"; }

kafka_up() {
  kafka_install
  if pid_alive kafka "$KAFKA_MAIN"; then
    log "Kafka already running"
    return 0
  fi
  kafka_healthy && die "port $TIDEMARK_KAFKA_PORT answers but not with our Kafka; set TIDEMARK_KAFKA_PORT"
  mkdir -p "$TIDEMARK_LOG_DIR"
  kafka_configure
  log "starting Kafka on 127.0.0.1:$TIDEMARK_KAFKA_PORT"
  kafka_java_cmd "$TIDEMARK_KAFKA_HEAP" "$KAFKA_MAIN" "$KAFKA_HOME/server.properties"
  spawn kafka "${JAVA_CMD[@]}"
  wait_until 90 Kafka kafka_healthy || die "Kafka did not start; see $TIDEMARK_LOG_DIR/kafka.log"
}

kafka_down() { stop_spawned kafka "$KAFKA_MAIN"; }

kafka_status() {
  if pid_alive kafka "$KAFKA_MAIN" && kafka_healthy; then
    echo "ok    kafka      127.0.0.1:$TIDEMARK_KAFKA_PORT (KRaft, Kafka $TIDEMARK_KAFKA_VERSION)"
  else
    echo "DOWN  kafka      127.0.0.1:$TIDEMARK_KAFKA_PORT"
    return 1
  fi
}
