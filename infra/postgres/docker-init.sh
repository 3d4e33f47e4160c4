#!/usr/bin/env bash
# docker-compose only: the official image runs this once on a new volume, before init.sql.
# It appends the same settings the native stack uses and writes the same access rules (see
# postgres_hba in infra/components/postgres.sh); both apply when the image restarts the server.
# The superuser connects over the socket inside the container only (docker compose exec -u
# postgres postgres psql); physical replication is refused.
set -euo pipefail
cat /tidemark/postgresql.conf >>"$PGDATA/postgresql.conf"
cat >"$PGDATA/pg_hba.conf" <<'HBA'
# TYPE  DATABASE     USER      ADDRESS   METHOD
local   all          postgres            peer
local   replication  all                 reject
local   all          all                 scram-sha-256
host    replication  all       all       reject
host    all          postgres  all       reject
host    all          all       all       scram-sha-256
HBA
