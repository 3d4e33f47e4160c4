#!/usr/bin/env bash
# npm test: formatting, lint, types and unit tests through turbo, the contracts' and the alert
# rules' checks, then the integration suite against the real stack (started if it is not running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/bootstrap.sh
node scripts/lockfile-check.mjs
npx prettier --check --log-level warn .
npx tsc -p tsconfig.json
npx turbo run lint typecheck test --output-logs=errors-only
npx tidemark contracts check
bash infra/stack.sh test-rules
npx vitest run --config vitest.integration.config.ts
