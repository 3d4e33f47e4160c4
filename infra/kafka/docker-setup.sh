#!/usr/bin/env bash
# docker-compose only: the kafka-setup service runs this once the broker answers; it writes the
# SCRAM credentials and ACLs exactly as the native stack does (infra/kafka/security.sh).
set -euo pipefail
# shellcheck source=infra/kafka/security.sh
. /tidemark/security.sh

run_class() { /opt/kafka/bin/kafka-run-class.sh "$@"; }

scratch=$(mktemp -d)
client=$scratch/admin-client.properties
(umask 077 && kafka_admin_client_settings >"$client")
until /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:29092 \
  --command-config "$client" >/dev/null 2>&1; do
  sleep 1
done
kafka_write_security run_class kafka:29092 "$client" "$scratch"
rm -rf "$scratch"
echo "Kafka SCRAM credentials and ACLs written"
