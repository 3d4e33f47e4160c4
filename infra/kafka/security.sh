# shellcheck shell=bash
# Kafka's SCRAM credentials and ACLs, shared by the native stack (infra/components/kafka.sh) and
# docker-compose (infra/kafka/docker-setup.sh). Reads TIDEMARK_TOPIC_PREFIX and the
# TIDEMARK_KAFKA_{ADMIN,CONNECT,STREAM}_{USER,PASSWORD} variables.

# Client settings of the admin principal for Kafka's own tools: SASL/PLAIN, which the broker
# checks against its own configuration, so it works before any SCRAM credential exists.
kafka_admin_client_settings() {
  echo "security.protocol=SASL_PLAINTEXT"
  echo "sasl.mechanism=PLAIN"
  echo "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$TIDEMARK_KAFKA_ADMIN_USER\" password=\"$TIDEMARK_KAFKA_ADMIN_PASSWORD\";"
}

# The ACLs, one kafka-acls invocation per line: who may do what (docs/security.md).
#   connect  writes the change topics (<prefix>.shop.*), the heartbeat topic and the topic
#            Debezium writes the snapshot signal table to (<prefix>.tidemark_cdc.*), and owns its
#            internal topics (tidemark-connect-*) and group;
#   stream   reads every <prefix>.* topic, writes the dead-letter topic, joins consumer groups
#            (any name but Connect's: a pipeline's group is its name);
#   admin    a super user (super.users): topic creation, tests, dlq replay, stream reset.
kafka_acl_commands() {
  local prefix=$TIDEMARK_TOPIC_PREFIX connect=User:$TIDEMARK_KAFKA_CONNECT_USER
  local stream=User:$TIDEMARK_KAFKA_STREAM_USER
  cat <<ACLS
--allow-principal $connect --operation Write --operation Describe --operation Create --resource-pattern-type prefixed --topic $prefix.shop. --topic $prefix.heartbeat. --topic $prefix.tidemark_cdc.
--allow-principal $connect --operation All --resource-pattern-type prefixed --topic tidemark-connect-
--allow-principal $connect --operation Read --operation Describe --group tidemark-connect
--allow-principal $stream --operation Read --operation Describe --resource-pattern-type prefixed --topic $prefix.
--allow-principal $stream --operation Write --topic $prefix.dlq
--allow-principal $stream --operation Read --operation Describe --group *
--deny-principal $stream --operation All --group tidemark-connect
ACLS
}

# Writes every principal's SCRAM-SHA-512 credential and adds the ACLs; idempotent.
# Usage: kafka_write_security <command running a Kafka main class> <bootstrap> <admin client
# settings file> <private scratch directory>
kafka_write_security() {
  local run=$1 bootstrap=$2 client=$3 scratch=$4 user acl
  # Passwords go through a file (mode 600), never on a command line other users can read.
  local scram=$scratch/scram.properties
  for user in ADMIN CONNECT STREAM; do
    local name_var=TIDEMARK_KAFKA_${user}_USER password_var=TIDEMARK_KAFKA_${user}_PASSWORD
    (umask 077 && echo "SCRAM-SHA-512=password=${!password_var}" >"$scram")
    if ! "$run" kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" --command-config "$client" \
      --alter --entity-type users --entity-name "${!name_var}" --add-config-file "$scram"; then
      rm -f "$scram"
      echo "could not write the SCRAM credential of ${!name_var}" >&2
      return 1
    fi
  done
  rm -f "$scram"
  while read -r -a acl; do
    "$run" kafka.admin.AclCommand --bootstrap-server "$bootstrap" --command-config "$client" \
      --add --force "${acl[@]}" </dev/null || {
      echo "could not add the Kafka ACLs ${acl[*]}" >&2
      return 1
    }
  done < <(kafka_acl_commands)
}
