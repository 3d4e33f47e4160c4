#!/usr/bin/env bash
# npm run bench: the streaming layer's throughput against raw kafkajs, and its end-to-end latency
# under load, on the live stack (started if it is not running). Flags go to the bench:
# npm run bench -- --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/bootstrap.sh
bash infra/stack.sh up
npm run bench --workspace @tidemark/bench -- "$@"
