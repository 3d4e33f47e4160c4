# shellcheck shell=bash
# Docker Compose v2+ as a Docker CLI plugin, for Testcontainers' DockerComposeEnvironment and
# `docker compose` on a machine without Docker: the official Compose, built from the Go module
# proxy once and cached (Debian's docker-compose 1.29 rejects the project's compose file, and the
# plugin is not packaged). `go install …@version` is refused for this module (its go.mod has
# replace directives), so it is built inside a throwaway module that requires it.

: "${TIDEMARK_COMPOSE_VERSION:=v5.6.0}"
COMPOSE_BIN="$TIDEMARK_CACHE_DIR/compose-$TIDEMARK_COMPOSE_VERSION/docker-compose"
COMPOSE_PLUGIN_DIR="$HOME/.docker/cli-plugins"

compose_install() {
  if [ ! -x "$COMPOSE_BIN" ]; then
    command -v go >/dev/null || die "go not found; install Go (apt-get install golang) to build Docker Compose"
    log "building Docker Compose $TIDEMARK_COMPOSE_VERSION from the Go module proxy (a few minutes, once)"
    mkdir -p "$TIDEMARK_LOG_DIR"
    local work
    work=$(mktemp -d)
    (
      cd "$work" \
        && go mod init tidemark.local/compose-build \
        && go get "github.com/docker/compose/v5/cmd@$TIDEMARK_COMPOSE_VERSION" \
        && go build -o "$work/docker-compose" github.com/docker/compose/v5/cmd
    ) >>"$TIDEMARK_LOG_DIR/compose-build.log" 2>&1 \
      || { rm -rf "$work"; die "building Docker Compose failed; see $TIDEMARK_LOG_DIR/compose-build.log"; }
    mkdir -p "$(dirname "$COMPOSE_BIN")"
    mv "$work/docker-compose" "$COMPOSE_BIN"
    rm -rf "$work"
  fi
  mkdir -p "$COMPOSE_PLUGIN_DIR"
  ln -sf "$COMPOSE_BIN" "$COMPOSE_PLUGIN_DIR/docker-compose"
}
