# shellcheck shell=bash
# Apache Kafka broker in KRaft mode (combined broker + controller), from Maven Central jars.

KAFKA_LIBS="$TIDEMARK_CACHE_DIR/kafka-$TIDEMARK_KAFKA_VERSION/libs"
KAFKA_HOME="$TIDEMARK_STATE_DIR/kafka"
KAFKA_MAIN=kafka.Kafka
# shellcheck source=infra/kafka/security.sh
. "$TIDEMARK_INFRA/kafka/security.sh"

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

# The broker's settings. Clients authenticate with SASL/SCRAM-SHA-512 on the client listener and
# are authorised by ACLs (kafka_security). SCRAM credentials live in the cluster's metadata, and
# only a client already in can write them (KRaft controllers do not take that request): so the
# admin alone may also use SASL/PLAIN, checked against this file, to write them on a new or an
# upgraded storage alike; the broker uses it to reach itself and its controller (KRaft
# controllers cannot use SCRAM). Topics are created on purpose, never on first use.
kafka_properties() {
  local admin=$TIDEMARK_KAFKA_ADMIN_USER password=$TIDEMARK_KAFKA_ADMIN_PASSWORD
  cat <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TIDEMARK_KAFKA_CONTROLLER_PORT
listeners=CLIENT://127.0.0.1:$TIDEMARK_KAFKA_PORT,CONTROLLER://127.0.0.1:$TIDEMARK_KAFKA_CONTROLLER_PORT
advertised.listeners=CLIENT://127.0.0.1:$TIDEMARK_KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$admin" password="$password" user_$admin="$password";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$admin" password="$password" user_$admin="$password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$admin
allow.everyone.if.no.acl.found=false
log.dirs=$KAFKA_HOME/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
}

kafka_configure() {
  mkdir -p "$KAFKA_HOME/data"
  cp "$TIDEMARK_INFRA/kafka/log4j.properties" "$KAFKA_HOME/log4j.properties"
  # Holds the admin password: readable by the stack's user only.
  (umask 077 && kafka_properties >"$KAFKA_HOME/server.properties")
  chmod 600 "$KAFKA_HOME/server.properties"
  if [ ! -f "$KAFKA_HOME/data/meta.properties" ]; then
    local cluster_id
    kafka_java_cmd -Xmx256m kafka.tools.StorageTool random-uuid
    cluster_id=$("${JAVA_CMD[@]}" 2>/dev/null | tail -n 1)
    log "formatting Kafka storage (cluster $cluster_id)"
    # No SCRAM credential at format: kafka_security writes every principal's after each start
    # (as the PLAIN admin), which upgrades storage formatted before them alike.
    kafka_java_cmd -Xmx256m kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$KAFKA_HOME/server.properties"
    "${JAVA_CMD[@]}" >>"$TIDEMARK_LOG_DIR/kafka.log" 2>&1 \
      || die "formatting Kafka storage failed; see $TIDEMARK_LOG_DIR/kafka.log"
  fi
}

# Runs one of Kafka's command-line tools (a main class of the jars), its output in kafka-setup.log.
kafka_tool() {
  kafka_java_cmd -Xmx256m "$@"
  "${JAVA_CMD[@]}" >>"$TIDEMARK_LOG_DIR/kafka-setup.log" 2>&1 </dev/null
}

# Writes the SCRAM credentials of every principal and adds the ACLs (infra/kafka/security.sh).
# They live in the cluster's metadata log, so once per cluster (the storage's cluster id) or when
# a password or ACL changes, not at every broker start: each tool call starts a JVM, and a broker
# restarted after a crash should serve again in seconds, not a minute.
kafka_security() {
  local applied="$TIDEMARK_STATE_DIR/run/kafka-security" want cluster client
  cluster=$(sed -n 's/^cluster.id=//p' "$KAFKA_HOME/data/meta.properties")
  want=$( (echo "$cluster" && kafka_acl_commands \
    && echo "$TIDEMARK_KAFKA_ADMIN_PASSWORD $TIDEMARK_KAFKA_CONNECT_PASSWORD $TIDEMARK_KAFKA_STREAM_PASSWORD") | sha256sum)
  [ -f "$applied" ] && [ "$(cat "$applied")" = "$want" ] && return 0
  log "writing Kafka's SCRAM credentials and ACLs"
  client=$KAFKA_HOME/admin-client.properties
  (umask 077 && kafka_admin_client_settings >"$client") && chmod 600 "$client"
  kafka_write_security kafka_tool "127.0.0.1:$TIDEMARK_KAFKA_PORT" "$client" "$KAFKA_HOME" \
    2>>"$TIDEMARK_LOG_DIR/kafka-setup.log" \
    || die "could not write Kafka's credentials and ACLs; see $TIDEMARK_LOG_DIR/kafka-setup.log"
  echo "$want" >"$applied"
}

kafka_healthy() { port_open 127.0.0.1 "$TIDEMARK_KAFKA_PORT"; }

kafka_up() {
  kafka_install
  if pid_alive kafka "$KAFKA_MAIN"; then
    if kafka_properties | cmp -s - "$KAFKA_HOME/server.properties"; then
      log "Kafka already running"
      kafka_security
      return 0
    fi
    # A broker started with other settings (one from before authentication, say) restarts.
    log "Kafka settings changed: restarting Kafka"
    kafka_down
  fi
  kafka_healthy && die "port $TIDEMARK_KAFKA_PORT answers but not with our Kafka; set TIDEMARK_KAFKA_PORT"
  mkdir -p "$TIDEMARK_LOG_DIR"
  kafka_configure
  log "starting Kafka on 127.0.0.1:$TIDEMARK_KAFKA_PORT"
  kafka_java_cmd "$TIDEMARK_KAFKA_HEAP" "$KAFKA_MAIN" "$KAFKA_HOME/server.properties"
  # The broker's passwords are in its properties file: its environment holds none.
  spawn kafka env $(secrets_except) "${JAVA_CMD[@]}"
  wait_until 90 Kafka kafka_healthy || die "Kafka did not start; see $TIDEMARK_LOG_DIR/kafka.log"
  kafka_security
}

kafka_down() { stop_spawned kafka "$KAFKA_MAIN"; }

kafka_status() {
  if pid_alive kafka "$KAFKA_MAIN" && kafka_healthy; then
    echo "ok    kafka      127.0.0.1:$TIDEMARK_KAFKA_PORT (KRaft, Kafka $TIDEMARK_KAFKA_VERSION, SASL/SCRAM + ACLs)"
  else
    echo "DOWN  kafka      127.0.0.1:$TIDEMARK_KAFKA_PORT"
    return 1
  fi
}
