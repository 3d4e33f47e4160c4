# shellcheck shell=bash
# Podman's Docker-compatible API on a socket of the stack's own, for the Docker CLI, Compose and
# testcontainers-node (DOCKER_HOST), with the settings podman_config writes.
# Without systemd nothing runs containers' health checks, so a loop here runs those of every
# container still starting (compose's `service_healthy` and Wait.forHealthCheck() wait on them).

PODMAN_SOCKET="$TIDEMARK_STATE_DIR/podman/podman.sock"
export CONTAINERS_CONF="$TIDEMARK_STATE_DIR/podman/containers.conf"

# runc, since crun refuses the hybrid cgroup hierarchy of machines like CI's; containers' limits
# of open files and processes within this machine's (Podman's defaults pass them, and the
# runtime then fails to start anything; here it also refused processes above pid_max); conmon processes gone 10 s after their container
# exits instead of piling up; cgroupfs and file events, with no systemd.
podman_config() {
  local files processes
  files=$(ulimit -Hn)
  processes=$(ulimit -Hu)
  [ "$processes" = unlimited ] || [ "$processes" -gt "$(cat /proc/sys/kernel/pid_max)" ] \
    && processes=$(cat /proc/sys/kernel/pid_max)
  [ "$files" = unlimited ] && files=1048576
  mkdir -p "$(dirname "$CONTAINERS_CONF")"
  cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$files:$files", "nproc=$processes:$processes"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
exit_command_delay = 10
CONF
}

podman_install() {
  local need=()
  command -v podman >/dev/null || need+=(podman)
  command -v runc >/dev/null || need+=(runc)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v docker >/dev/null || need+=(docker.io)
  if [ "${#need[@]}" -gt 0 ]; then
    is_root || die "${need[*]} missing; install them (apt-get install ${need[*]})"
    log "installing ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
      || die "apt-get install ${need[*]} failed"
  fi
  compose_install
}

podman_api_healthy() { [ -S "$PODMAN_SOCKET" ] && DOCKER_HOST="unix://$PODMAN_SOCKET" docker version >/dev/null 2>&1; }

# Runs the health checks of containers that are still starting, every two seconds.
podman_healthcheck_loop() {
  while true; do
    podman ps --filter health=starting --format '{{.ID}}' | while read -r id; do
      podman healthcheck run "$id" >/dev/null 2>&1 || true
    done
    sleep 2
  done
}

podman_up() {
  podman_install
  podman_config
  # Podman re-executes itself, so the API is known by its socket, not by the pid spawn records.
  if podman_api_healthy; then
    log "Podman API already running"
  else
    log "starting Podman's Docker API on $PODMAN_SOCKET"
    spawn podman-api podman system service --time=0 "unix://$PODMAN_SOCKET"
    wait_until 30 "Podman API" podman_api_healthy || die "Podman's API did not start; see $TIDEMARK_LOG_DIR/podman-api.log"
  fi
  pid_alive podman-health "podman_healthcheck_loop" \
    || spawn podman-health bash -c "$(declare -f podman_healthcheck_loop); podman_healthcheck_loop"
}

# Stops the API and the health checks, and removes the containers of the local images (a test
# run that died before its teardown leaves them holding the stack's ports).
podman_down() {
  local image
  if command -v podman >/dev/null && [ -f "$CONTAINERS_CONF" ]; then
    for image in $(images_environment | cut -d= -f2); do
      podman ps -aq --filter "ancestor=$image" | xargs -r podman rm -f >/dev/null 2>&1 || true
    done
  fi
  stop_spawned podman-health "podman_healthcheck_loop"
  stop_spawned podman-api "system service"
  pkill -f "podman system service --time=0 unix://$PODMAN_SOCKET" 2>/dev/null || true
  rm -f "$PODMAN_SOCKET"
}

podman_status() {
  if podman_api_healthy; then
    echo "ok    podman     unix://$PODMAN_SOCKET (Docker API $(DOCKER_HOST="unix://$PODMAN_SOCKET" docker version --format '{{.Server.APIVersion}}' 2>/dev/null))"
  else
    echo "DOWN  podman     unix://$PODMAN_SOCKET"
    return 1
  fi
}
