#!/usr/bin/env bash
# npm run test:docker: the integration suite through Testcontainers and docker-compose.yml, the
# path `npm test` takes by default wherever a Docker engine answers. With one, its official
# images are used; on a Linux machine without one, Podman's Docker API and local images stand in
# (infra/podman.sh, docs/docker.md). Arguments go to vitest (a file, -t a test name).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
if [ -z "${DOCKER_HOST:-}" ] && ! docker info >/dev/null 2>&1; then
  echo "[tidemark] no Docker engine answers: using Podman's Docker API and local images" >&2
  bash infra/podman.sh up
  while IFS= read -r setting; do export "${setting?}"; done < <(bash infra/podman.sh env)
fi
TIDEMARK_STACK=docker npx vitest run --config vitest.integration.config.ts "$@"
