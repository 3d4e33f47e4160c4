#!/usr/bin/env bash
# Runs a main class from the Kafka jars, as the distribution's script of this name does.
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp '/opt/kafka/libs/*' "$@"
