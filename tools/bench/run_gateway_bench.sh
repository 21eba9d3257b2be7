#!/usr/bin/env bash
# Gateway end-to-end Search latency with a large gallery (see tools/bench/gateway_bench.cc).
# Starts index, embedding (the default model) and gateway servers on loopback in a temporary
# folder, bulk-fills the gallery, measures, and stops them.
# Usage: tools/bench/run_gateway_bench.sh [PHOTOS] [QUERY_DIR] [QUERIES]
# EMBEDDING_FLAGS (environment): extra embedding_server flags, e.g. --prepare_for_serving=false.
# EMBEDDING_SERVER (environment): the embedding_server binary to run (default: this build's),
#   e.g. one built from an earlier commit in a git worktree, to compare the two in one session.
# GATEWAY_FLAGS (environment): extra gateway_server flags, e.g. --index_vector_encoding=float16.
# FILL_FLAGS (environment): extra gateway_bench fill flags, e.g. --real_embeddings=FILE.
# ENROLL_DOGS (environment): after the searches, enroll this many real dogs through the API
#   (0 = skip; default 200) and compare with the embedding service alone.
# UPGRADE_TO (environment): a checkpoint folder; after enrolling, upgrade the gallery to it and
#   time the re-embedding (the synthetic fill has no photo files: give PHOTOS=0 so that the
#   gallery holds only the enrolled real photos). The embedding service then loads models from
#   a temporary folder holding the default model and this one.
# Prints, besides the tables: the gateway's start-up time on the filled gallery (until it
# serves) and the resident memory of each server after the searches.
set -euo pipefail
cd "$(dirname "$0")/../.."
photos="${1:-100000}"
query_dir="${2:-../shared/datasets/dogfacenet/after_4_bis}"
queries="${3:-400}"
cmake --build build --target gateway_bench gateway_server index_server embedding_server dogsearch >/dev/null
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port_of() {  # file, ready-prefix: waits for the readiness line and prints its port
  for _ in $(seq 1 600); do
    grep -q "^$2" "$1" 2>/dev/null && break
    sleep 0.1
  done
  grep "^$2" "$1" | awk '{print $NF}'
}
build/services/index/index_server --address=127.0.0.1:0 --data_dir="$work/index" \
  --sync_policy=none --log_level=warning > "$work/index.out" &
pids+=("$!")
models=deploy/models
if [ -n "${UPGRADE_TO:-}" ]; then
  models="$work/models"
  mkdir -p "$models"
  cp -r "deploy/models/$(cat deploy/models/DEFAULT)" "$models/"
  cp -r "$UPGRADE_TO" "$models/"
fi
"${EMBEDDING_SERVER:-build/services/embedding/embedding_server}" --address=127.0.0.1:0 --model_dir="$models" \
  --watch_interval_seconds=0 --default_model="$(cat deploy/models/DEFAULT)" --log_level=warning \
  ${EMBEDDING_FLAGS:-} > "$work/embedding.out" &
pids+=("$!")
iport=$(port_of "$work/index.out" "index listening")
eport=$(port_of "$work/embedding.out" "embedding listening")
start_gateway() {
  # shellcheck disable=SC2086  # GATEWAY_FLAGS is a list of flags.
  build/services/gateway/gateway_server --address=127.0.0.1:0 --http_port=-1 \
    --data_dir="$work/gateway" --embedding_address="127.0.0.1:$eport" \
    --index_address="127.0.0.1:$iport" --log_level=warning ${GATEWAY_FLAGS:-} > "$work/gateway.out" &
  gpid=$!
  pids+=("$gpid")
  gport=$(port_of "$work/gateway.out" "gateway listening")
  for _ in $(seq 1 6000); do  # Until the serving model is restored or bootstrapped.
    build/tools/cli/dogsearch --gateway="127.0.0.1:$gport" status 2>/dev/null \
      | grep -q '^Serving model: [^(]' && break
    sleep 0.1
  done
}
start_gateway   # Bootstraps the gallery collection and records the serving model.
kill "$gpid"; wait "$gpid" 2>/dev/null || true
# shellcheck disable=SC2086  # FILL_FLAGS is a list of flags.
[ "$photos" -eq 0 ] || build/tools/bench/gateway_bench --phase=fill --index="127.0.0.1:$iport" \
  --gateway_data="$work/gateway" --version="$(cat deploy/models/DEFAULT)" --photos="$photos" \
  ${FILL_FLAGS:-}
t0=$(date +%s%3N)
start_gateway
echo "gateway start-up on the filled gallery: $(( $(date +%s%3N) - t0 )) ms until it serves"
rss() { echo "$(( $(awk '/VmRSS/{print $2}' "/proc/$1/status") / 1024 ))"; }
echo "## Gateway Search, $photos-photo gallery, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
build/tools/bench/gateway_bench --phase=query --gateway="127.0.0.1:$gport" \
  --embedding="127.0.0.1:$eport" --index="127.0.0.1:$iport" --query_dir="$query_dir" \
  --queries="$queries"
echo "resident memory after the searches: gateway $(rss "$gpid") MiB, index $(rss "${pids[0]}") MiB, embedding $(rss "${pids[1]}") MiB"
if [ "${ENROLL_DOGS:-200}" -gt 0 ]; then
  build/tools/bench/gateway_bench --phase=enroll --gateway="127.0.0.1:$gport" \
    --embedding="127.0.0.1:$eport" --query_dir="$query_dir" --enroll_dogs="${ENROLL_DOGS:-200}"
fi
if [ -n "${UPGRADE_TO:-}" ]; then
  build/tools/bench/gateway_bench --phase=upgrade --gateway="127.0.0.1:$gport" \
    --to_version="$(basename "$UPGRADE_TO")"
fi
