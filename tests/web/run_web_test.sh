#!/usr/bin/env bash
# Runs tests/web/web_test.mjs against real index, embedding and gateway servers on loopback.
# Exits 77 (CTest: skipped) when Chromium, Node.js or playwright-core is not installed
# (tools/run_tests.sh installs playwright-core; tools/install_deps.sh installs chromium).
# Usage: run_web_test.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "$1" && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ] || ! command -v node >/dev/null || [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "SKIP: needs $chromium, node and tests/web/node_modules (npm ci --prefix tests/web)"
  exit 77
fi
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port_of() {
  for _ in $(seq 1 600); do grep -q "^$2" "$1" 2>/dev/null && break; sleep 0.1; done
  grep "^$2" "$1" | awk '{print $NF}'
}
"$build/services/index/index_server" --address=127.0.0.1:0 --data_dir="$work/index" \
  --log_level=warning > "$work/index.out" &
pids+=("$!")
"$build/services/embedding/embedding_server" --address=127.0.0.1:0 \
  --model_dir="$root/deploy/models" --watch_interval_seconds=0 --log_level=warning \
  > "$work/embedding.out" &
pids+=("$!")
iport=$(port_of "$work/index.out" "index listening")
eport=$(port_of "$work/embedding.out" "embedding listening")
"$build/services/gateway/gateway_server" --address=127.0.0.1:0 --http_port=0 \
  --data_dir="$work/gateway" --embedding_address="127.0.0.1:$eport" \
  --index_address="127.0.0.1:$iport" --auth_token=webtok --log_level=warning \
  --target_fpir=0.000001 --possible_match_fpir=0.000001 \
  > "$work/gateway.out" &
pids+=("$!")
web=$(port_of "$work/gateway.out" "gateway web on port")
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$web/healthz" >/dev/null && break; sleep 0.1; done
node "$here/web_test.mjs" "http://127.0.0.1:$web" webtok "$build/web_test.png"
