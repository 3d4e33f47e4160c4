# shellcheck shell=bash
# PostgreSQL from Debian packages, with its own data directory under the state dir.

PG_DATA="$TIDEMARK_STATE_DIR/postgres/data"
PG_RUN="$TIDEMARK_STATE_DIR/postgres/run"

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && echo "$dir"
  done | sort -V | tail -n 1
}

# PostgreSQL refuses to run as root: when we are root, the server runs as the `postgres` user.
pg_as_owner() {
  if is_root; then
    # From /, which it may enter: the caller's directory (a private checkout) it may not, and its
    # tools would each say so ("could not change directory to ...").
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

postgres_install() {
  if [ -z "$(pg_bindir)" ]; then
    is_root || die "PostgreSQL is not installed; run as root or: apt-get install postgresql"
    log "installing PostgreSQL from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if is_root && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
}

postgres_init() {
  mkdir -p "$PG_DATA" "$PG_RUN"
  # The server reaches its data directory through the state directory by its group
  # (state_dir_prepare).
  is_root && chown -R postgres:postgres "$TIDEMARK_STATE_DIR/postgres"
  chmod 700 "$PG_DATA"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initialising the PostgreSQL cluster in $PG_DATA"
    # pg_hba.conf is replaced by postgres_access before the first start.
    pg_as_owner "$(pg_bindir)/initdb" -D "$PG_DATA" -U postgres --auth-local=peer \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    {
      echo "listen_addresses = '$TIDEMARK_PG_HOST'"
      echo "port = $TIDEMARK_PG_PORT"
      echo "unix_socket_directories = '$PG_RUN'"
    } | pg_as_owner tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  postgres_settings
}

# The project's settings live in the data directory's tidemark.conf, rewritten from the checkout
# at each `up`, so a changed setting reaches clusters initialised before it. Copied, not
# included from the checkout: the server user may not be able to read it. A cluster initialised
# before the include existed gets it now; coming last, its settings win.
postgres_settings() {
  postgres_access
  local settings="$PG_DATA/tidemark.conf"
  grep -q "^include_if_exists = 'tidemark.conf'" "$PG_DATA/postgresql.conf" \
    || echo "include_if_exists = 'tidemark.conf'" | pg_as_owner tee -a "$PG_DATA/postgresql.conf" >/dev/null
  if ! cmp -s "$TIDEMARK_INFRA/postgres/postgresql.conf" "$settings"; then
    pg_as_owner tee "$settings" <"$TIDEMARK_INFRA/postgres/postgresql.conf" >/dev/null
    postgres_running_ours && {
      postgres_psql -d postgres -c 'select pg_reload_conf()' >/dev/null
      log "PostgreSQL settings changed: reloaded; shared_buffers and wal_buffers apply at its next start"
    }
  fi
  return 0
}

# Who may connect how, rewritten at each `up` so clusters initialised before a change get it:
# the superuser only over the socket, as the system user running the server (peer); every role
# with its password (SCRAM) otherwise; no physical replication at all (pg_basebackup of the whole
# cluster). Debezium's logical replication connections name their database (`source`), so they
# match the `all` lines, never the `replication` ones.
postgres_hba() {
  cat <<HBA
# Written by infra/components/postgres.sh at each \`up\`; edits here are overwritten.
# TYPE  DATABASE     USER      ADDRESS         METHOD
local   all          postgres                  peer map=tidemark
local   replication  all                       reject
local   all          all                       scram-sha-256
host    replication  all       127.0.0.1/32    reject
host    replication  all       ::1/128         reject
host    all          all       127.0.0.1/32    scram-sha-256
host    all          all       ::1/128         scram-sha-256
HBA
}

postgres_access() {
  local changed=0 server_user
  server_user=$(if is_root; then echo postgres; else id -un; fi)
  if ! postgres_hba | cmp -s - "$PG_DATA/pg_hba.conf"; then
    postgres_hba | pg_as_owner tee "$PG_DATA/pg_hba.conf" >/dev/null
    changed=1
  fi
  # The system user the server runs as may connect as the `postgres` superuser, and no other.
  local ident="tidemark $server_user postgres"
  if ! printf '%s\n' "$ident" | cmp -s - "$PG_DATA/pg_ident.conf"; then
    printf '%s\n' "$ident" | pg_as_owner tee "$PG_DATA/pg_ident.conf" >/dev/null
    changed=1
  fi
  if [ "$changed" -eq 1 ] && postgres_running_ours; then
    postgres_psql -d postgres -c 'select pg_reload_conf()' >/dev/null
    log "PostgreSQL access rules changed: reloaded"
  fi
  return 0
}

postgres_healthy() {
  "$(pg_bindir)/pg_isready" -q -h "$TIDEMARK_PG_HOST" -p "$TIDEMARK_PG_PORT"
}

postgres_running_ours() { [ -f "$PG_DATA/postmaster.pid" ] && pg_as_owner "$(pg_bindir)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

postgres_psql() {
  pg_as_owner "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$TIDEMARK_PG_PORT" -U postgres "$@"
}

postgres_up() {
  postgres_install
  if postgres_running_ours; then
    log "PostgreSQL already running"
    postgres_settings
  else
    postgres_healthy && die "port $TIDEMARK_PG_PORT answers but not with our PostgreSQL; set TIDEMARK_PG_PORT"
    postgres_init
    mkdir -p "$TIDEMARK_LOG_DIR"
    touch "$TIDEMARK_LOG_DIR/postgres.log"
    is_root && chown postgres "$TIDEMARK_LOG_DIR/postgres.log"
    log "starting PostgreSQL on $TIDEMARK_PG_HOST:$TIDEMARK_PG_PORT"
    pg_as_owner env $(secrets_except) "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -l "$TIDEMARK_LOG_DIR/postgres.log" -w -t 60 start >/dev/null \
      || die "PostgreSQL did not start; see $TIDEMARK_LOG_DIR/postgres.log"
  fi
  # init.sql is idempotent; running it each time repairs roles dropped by hand.
  postgres_psql -d postgres <"$TIDEMARK_INFRA/postgres/init.sql" >/dev/null
}

postgres_down() {
  if postgres_running_ours; then
    pg_as_owner "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
    log "PostgreSQL stopped"
  fi
}

# Debezium's replication slot: "lost" means PostgreSQL removed WAL it still needed
# (max_slot_wal_keep_size), so changes were never captured. Absent before the connector's first run.
slot_status() {
  local slot="${TIDEMARK_SLOT_NAME:-tidemark_shop}" wal_status
  wal_status=$(postgres_psql -d source -Atc \
    "select wal_status from pg_replication_slots where slot_name = '$slot'" 2>/dev/null || true)
  case "$wal_status" in
    "") ;;
    lost)
      echo "DOWN  slot       $slot lost: WAL it needed was removed, changes since were not captured (see README, Troubleshooting)"
      return 1
      ;;
    *) echo "ok    slot       $slot (wal_status=$wal_status)" ;;
  esac
}

postgres_status() {
  if postgres_healthy && postgres_running_ours; then
    echo "ok    postgres   $TIDEMARK_PG_HOST:$TIDEMARK_PG_PORT (wal_level=$(postgres_psql -d postgres -Atc 'show wal_level'))"
    slot_status || return 1
  else
    echo "DOWN  postgres   $TIDEMARK_PG_HOST:$TIDEMARK_PG_PORT"
    return 1
  fi
}
