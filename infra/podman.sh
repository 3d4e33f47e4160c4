#!/usr/bin/env bash
# The Docker users' path on a Linux machine without Docker: Podman's Docker-compatible API, the
# Compose plugin, and local images of the stack's services (infra/images), so that
# `TIDEMARK_STACK=docker npm run test:integration` runs the integration tests through
# Testcontainers and docker-compose.yml as on a machine with Docker (docs/docker.md).
# Usage: infra/podman.sh up|down|status|env
#   up      installs what is missing, starts the API, builds the images (cached, idempotent)
#   env     prints the environment the Docker CLI, Compose and Testcontainers need
set -euo pipefail

TIDEMARK_INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export TIDEMARK_INFRA
# shellcheck source=infra/env.sh
. "$TIDEMARK_INFRA/env.sh"
# shellcheck source=infra/lib.sh
. "$TIDEMARK_INFRA/lib.sh"
for component in components/postgres components/kafka components/connect components/temporal \
  podman/compose podman/engine podman/images; do
  # shellcheck source=/dev/null
  . "$TIDEMARK_INFRA/$component.sh"
done

# DOCKER_HOST: Podman's socket. TESTCONTAINERS_HOST_OVERRIDE: these machines have a /.dockerenv,
# which would make Testcontainers look for published ports on a gateway address instead of
# localhost. No Ryuk image here: the tests' own teardown removes what they start.
podman_environment() {
  cat <<ENV
DOCKER_HOST=unix://$PODMAN_SOCKET
TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
TESTCONTAINERS_RYUK_DISABLED=true
CONTAINERS_CONF=$CONTAINERS_CONF
ENV
  images_environment
}

case "${1:-}" in
  up)
    postgres_install # the group the state directory may belong to
    state_dir_prepare
    mkdir -p "$TIDEMARK_CACHE_DIR" "$TIDEMARK_LOG_DIR"
    podman_up
    images_up
    log "Podman is up; run with: env \$(bash infra/podman.sh env) TIDEMARK_STACK=docker …"
    ;;
  down) podman_down ;;
  status) podman_status ;;
  env) podman_environment ;;
  *)
    echo "usage: $0 up|down|status|env" >&2
    exit 2
    ;;
esac
