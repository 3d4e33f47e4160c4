#!/usr/bin/env bash
# quay.io/debezium/connect's environment contract, the part docker-compose.yml relies on:
# BOOTSTRAP_SERVERS, GROUP_ID and the three storage topics (CONFIG_STORAGE_TOPIC,
# OFFSET_STORAGE_TOPIC, STATUS_STORAGE_TOPIC) are required; KEY_CONVERTER, VALUE_CONVERTER,
# OFFSET_FLUSH_INTERVAL_MS and the storage topics' replication factors (default 1) are read
# under those names, HEAP_OPTS and KAFKA_OPTS as the JVM's options; every other CONNECT_*
# variable is a worker property, named by dropping the prefix, lower-casing, and reading `_` as
# `.`. The REST API listens on 8083 and advertises the container's address. Plugins load from
# /kafka/connect.
# Checked against docker-compose.yml (services/cli/src/commands/compose-images.test.ts), with
# the variables the worker's env config provider may read (its allowlist pattern):
# reads: BOOTSTRAP_SERVERS GROUP_ID CONFIG_STORAGE_TOPIC OFFSET_STORAGE_TOPIC STATUS_STORAGE_TOPIC CONFIG_STORAGE_REPLICATION_FACTOR OFFSET_STORAGE_REPLICATION_FACTOR STATUS_STORAGE_REPLICATION_FACTOR KEY_CONVERTER VALUE_CONVERTER OFFSET_FLUSH_INTERVAL_MS ADVERTISED_HOST_NAME ADVERTISED_PORT HEAP_OPTS KAFKA_OPTS CONNECT_*
# requires: BOOTSTRAP_SERVERS GROUP_ID CONFIG_STORAGE_TOPIC OFFSET_STORAGE_TOPIC STATUS_STORAGE_TOPIC
set -euo pipefail
if [ "$#" -gt 0 ]; then exec "$@"; fi
missing=()
for name in BOOTSTRAP_SERVERS GROUP_ID CONFIG_STORAGE_TOPIC OFFSET_STORAGE_TOPIC STATUS_STORAGE_TOPIC; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
[ "${#missing[@]}" -eq 0 ] || {
  echo "the Connect worker needs ${missing[*]} set" >&2
  exit 1
}
properties=/kafka/connect-distributed.properties
{
  echo "bootstrap.servers=$BOOTSTRAP_SERVERS"
  echo "group.id=$GROUP_ID"
  echo "config.storage.topic=$CONFIG_STORAGE_TOPIC"
  echo "offset.storage.topic=$OFFSET_STORAGE_TOPIC"
  echo "status.storage.topic=$STATUS_STORAGE_TOPIC"
  echo "config.storage.replication.factor=${CONFIG_STORAGE_REPLICATION_FACTOR:-1}"
  echo "offset.storage.replication.factor=${OFFSET_STORAGE_REPLICATION_FACTOR:-1}"
  echo "status.storage.replication.factor=${STATUS_STORAGE_REPLICATION_FACTOR:-1}"
  echo "key.converter=${KEY_CONVERTER:-org.apache.kafka.connect.json.JsonConverter}"
  echo "value.converter=${VALUE_CONVERTER:-org.apache.kafka.connect.json.JsonConverter}"
  echo "offset.flush.interval.ms=${OFFSET_FLUSH_INTERVAL_MS:-60000}"
  echo "listeners=HTTP://0.0.0.0:8083"
  echo "rest.advertised.host.name=${ADVERTISED_HOST_NAME:-$(hostname -i | cut -d' ' -f1)}"
  echo "rest.advertised.port=${ADVERTISED_PORT:-8083}"
  echo "plugin.path=/kafka/connect"
  for name in $(compgen -e); do
    case "$name" in CONNECT_*) ;; *) continue ;; esac
    key=${name#CONNECT_}
    key=${key,,}
    printf '%s=%s\n' "${key//_/.}" "${!name}"
  done
} >"$properties"
# shellcheck disable=SC2086 # the JVM's options, as Kafka's scripts split them
exec java ${HEAP_OPTS:--Xms256m -Xmx1g} ${KAFKA_OPTS:-} -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp '/opt/kafka/libs/*' \
  org.apache.kafka.connect.cli.ConnectDistributed "$properties"
