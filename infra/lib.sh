# shellcheck shell=bash
# Process and health helpers shared by the component scripts.

log() { printf '[tidemark] %s\n' "$*" >&2; }
die() { printf '[tidemark] error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# The state directory holds the databases, Kafka's data and the passwords in its properties
# files: it belongs to the user running the stack, mode 700. Its default is under /var/tmp, where
# any local user could create it first (or a symlink to elsewhere), so one that is a symlink or
# belongs to someone else is refused, never used. As root, PostgreSQL runs as `postgres` and must
# pass through it to its data directory: the group `postgres` gets search (x) only, 710, which
# lets it reach the paths it knows and list nothing; no other user gets anything.
state_dir_prepare() {
  local dir=$TIDEMARK_STATE_DIR
  if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    mkdir -p "$(dirname "$dir")"
    # Fails, rather than adopting it, if someone creates it between the test and here.
    mkdir -m 700 "$dir" || die "could not create $dir"
  fi
  [ -L "$dir" ] && die "$dir is a symbolic link: refusing to use it (remove it, or set TIDEMARK_STATE_DIR)"
  [ -d "$dir" ] || die "$dir is not a directory: refusing to use it (remove it, or set TIDEMARK_STATE_DIR)"
  local owner
  owner=$(stat -c %u "$dir")
  [ "$owner" = "$(id -u)" ] \
    || die "$dir belongs to $(stat -c %U "$dir"), not to $(id -un) who runs the stack: refusing to use it (someone else may have created it; remove it, or set TIDEMARK_STATE_DIR)"
  if is_root; then
    chgrp postgres "$dir"
    chmod 710 "$dir"
  else
    chmod 700 "$dir"
  fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Waits until the command succeeds or the timeout (seconds) passes.
wait_until() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep 1
  done
  log "$what is up"
}

# `env` options removing every password of the stack from a program's environment but those named.
secrets_except() {
  local name
  for name in $(compgen -v TIDEMARK_); do
    case "$name" in *_PASSWORD) ;; *) continue ;; esac
    [[ " $* " == *" $name "* ]] || printf -- '-u %s\n' "$name"
  done
}

pid_file() { echo "$TIDEMARK_STATE_DIR/run/$1.pid"; }

# Alive only if the recorded pid still runs the program we started (pids get reused).
pid_alive() {
  local file pid
  file=$(pid_file "$1")
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa -- "$2" "/proc/$pid/cmdline" 2>/dev/null
}

# Starts a long-running program detached in its own session; it records its own pid (the
# program execs in place of the shell) so the pid is right whatever job control the caller has.
spawn() {
  local name=$1 file
  shift
  file=$(pid_file "$name")
  mkdir -p "$TIDEMARK_STATE_DIR/run" "$TIDEMARK_LOG_DIR"
  rm -f "$file"
  setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "$file" "$@" >>"$TIDEMARK_LOG_DIR/$name.log" 2>&1 </dev/null
  local tries=50
  until [ -s "$file" ] || [ "$tries" -eq 0 ]; do
    sleep 0.1
    tries=$((tries - 1))
  done
}

# Stops a program started by spawn: SIGTERM to its process group, SIGKILL after a grace period.
stop_spawned() {
  local name=$1 marker=$2 file pid
  file=$(pid_file "$name")
  if ! pid_alive "$name" "$marker"; then
    rm -f "$file"
    return 0
  fi
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  log "$name stopped"
}

# Runs maven in batch mode, its output in the log, with the user's local repository as the cache.
mvn_quiet() {
  mkdir -p "$TIDEMARK_LOG_DIR"
  mvn -B -ntp -Dstyle.color=never "$@" >>"$TIDEMARK_LOG_DIR/maven.log" 2>&1
}
