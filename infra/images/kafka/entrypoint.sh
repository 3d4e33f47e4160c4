#!/usr/bin/env bash
# The apache/kafka image's environment contract, the part docker-compose.yml relies on: every
# KAFKA_* variable but the JVM's own (KAFKA_HEAP_OPTS, KAFKA_OPTS, …) is a broker property, named
# by dropping the prefix, lower-casing, and reading `___` as `-`, `__` as `_` and `_` as `.`
# (KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG is
# listener.name.client.scram-sha-512.sasl.jaas.config). CLUSTER_ID names the cluster whose
# storage is formatted on first start; log.dirs defaults to /tmp/kraft-combined-logs.
# Any arguments replace the broker: `bash`, or a class for kafka-run-class.sh.
# Checked against docker-compose.yml (services/cli/src/commands/compose-images.test.ts):
# reads: KAFKA_* CLUSTER_ID
set -euo pipefail
if [ "$#" -gt 0 ]; then exec "$@"; fi
: "${CLUSTER_ID:=5L6g3nShT-eMCtK--X86sw}"
properties=/opt/kafka/config/server.properties
{
  for name in $(compgen -e); do
    case "$name" in
      KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_GC_LOG_OPTS | KAFKA_LOG4J_OPTS | KAFKA_JMX_OPTS | KAFKA_DEBUG | KAFKA_VERSION) continue ;;
      KAFKA_*) ;;
      *) continue ;;
    esac
    key=${name#KAFKA_}
    key=${key//___/-}
    key=${key//__/@}
    key=${key//_/.}
    key=${key//@/_}
    printf '%s=%s\n' "${key,,}" "${!name}"
  done
  [ -n "${KAFKA_LOG_DIRS:-}" ] || echo 'log.dirs=/tmp/kraft-combined-logs'
} >"$properties"
/opt/kafka/bin/kafka-run-class.sh kafka.tools.StorageTool format --ignore-formatted \
  -t "$CLUSTER_ID" -c "$properties" >/dev/null
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp '/opt/kafka/libs/*' \
  kafka.Kafka "$properties"
