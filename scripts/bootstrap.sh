#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v node >/dev/null || { echo "node not found: install Node.js 20.19 or newer" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[tidemark] installing npm dependencies" >&2
  # Exactly the locked versions. The lockfile holds every platform's optional packages
  # (scripts/lockfile-check.mjs, in npm test), which `npm ci` needs on each platform.
  npm ci --no-audit --no-fund --loglevel=error
fi
