#!/usr/bin/env bash
# npm run chaos: the platform under a steady load while its processes and the stack's services
# are killed -9 in turn, on the live stack (started if it is not running); never part of npm test.
# Flags go to the run: npm run chaos -- --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/bootstrap.sh
bash infra/stack.sh up
npm run chaos --workspace @tidemark/chaos -- "$@"
