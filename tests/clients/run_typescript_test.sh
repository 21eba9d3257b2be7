#!/usr/bin/env bash
# Builds the TypeScript client (types generated from its protos, then tsc) and runs its tests
# against real servers (tests/clients/serve.py). Exits 77 (CTest: skipped) without Node.js or
# without clients/typescript/node_modules (tools/run_tests.sh runs `npm ci` there).
#   run_typescript_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
ts="$root/clients/typescript"
if ! command -v node >/dev/null || [ ! -d "$ts/node_modules/@grpc/grpc-js" ]; then
  echo "SKIP: needs node and clients/typescript/node_modules (npm ci --prefix clients/typescript)"
  exit 77
fi
cd "$ts"
npm run --silent build
DOGSEARCH_BUILD="$(cd "$1" && pwd)" node --test test/
