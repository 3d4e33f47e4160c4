#!/usr/bin/env bash
# npm run demo: everything from a fresh clone to the walking skeleton's report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/bootstrap.sh
bash infra/stack.sh up
npx tidemark demo
