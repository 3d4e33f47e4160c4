#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v node >/dev/null || { echo "node not found: install Node.js 20.19 or newer" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[tidemark] installing npm dependencies" >&2
  # Not `npm ci`: npm 11 leaves other platforms' optional packages out of the lockfile, and
  # `npm ci` then refuses it. `install --no-save` keeps the locked versions and the lockfile as is.
  npm install --no-save --no-audit --no-fund --loglevel=error
fi
