#!/usr/bin/env bash
# docker-compose only: the official image runs this once on a new volume, before init.sql.
# It appends the same settings the native stack uses; they apply when the image restarts the server.
set -euo pipefail
cat /tidemark/postgresql.conf >>"$PGDATA/postgresql.conf"
echo "host replication all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
