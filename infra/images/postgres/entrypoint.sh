#!/usr/bin/env bash
# The official postgres image's environment contract, the part docker-compose.yml relies on:
# POSTGRES_USER (default postgres) and POSTGRES_PASSWORD make the superuser of a new data
# directory (PGDATA); scripts in /docker-entrypoint-initdb.d run once, in name order, against a
# server listening on its socket only (*.sh executed, or sourced when not executable; *.sql
# through psql, stopping at the first error); then the server listens on every address, with
# `host all all all scram-sha-256` as the image's default access rule. Arguments go to postgres.
# Checked against docker-compose.yml (services/cli/src/commands/compose-images.test.ts), with
# the variables the init scripts read:
# reads: POSTGRES_USER POSTGRES_PASSWORD PGDATA
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -n "${POSTGRES_PASSWORD:-}" ] || {
    echo "POSTGRES_PASSWORD is not set: the superuser of a new database needs one" >&2
    exit 1
  }
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=peer --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sh) if [ -x "$script" ]; then "$script"; else . "$script"; fi ;;
      *.sql) psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname postgres -f "$script" ;;
      *) echo "ignoring $script" >&2 ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
