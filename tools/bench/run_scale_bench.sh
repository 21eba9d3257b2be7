#!/usr/bin/env bash
# Registry-scale benchmark of the index (issue #22; tools/bench/scale_bench.cc): starts an
# index_server, bulk-loads N photos (N/5 dogs), snapshots, measures Search latency and recall,
# kills the server with SIGKILL, restarts it on the same data, measures the time until it
# serves again and searches once more. Prints Markdown rows for docs/BENCHMARKS.md.
# Usage: tools/bench/run_scale_bench.sh [N] [QUERIES]
# SCALE_FLAGS (environment): extra scale_bench flags for every phase, e.g. --ef=32 (query) or
# --vector_encoding=int8 (fill; float32, float16 or int8) or --real_embeddings=FILE (a
# dogsearch-eval --embeddings_out file: a gallery shaped like real embeddings).
# BUILD_DIR (environment): a configured build folder to take the binaries from, as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100000}"
queries="${2:-200}"
build="${BUILD_DIR:-build}"
[ -n "${BUILD_DIR:-}" ] || cmake --build build --target scale_bench index_server >/dev/null
work="$(mktemp -d "${TMPDIR:-/tmp}/dogsearch-scale.XXXXXX")"
server=""
cleanup() { [ -n "$server" ] && kill -9 "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
start_server() {
  : > "$work/index.out"
  "$build/services/index/index_server" --address=127.0.0.1:0 --data_dir="$work/index" \
    --log_level=warning >> "$work/index.out" 2>&1 &
  server=$!
  for _ in $(seq 1 6000); do
    grep -q "^index listening" "$work/index.out" && break
    kill -0 "$server" 2>/dev/null || { cat "$work/index.out" >&2; exit 1; }
    sleep 0.01
  done
  port=$(grep "^index listening" "$work/index.out" | awk '{print $NF}')
}
bench() {
  # shellcheck disable=SC2086  # SCALE_FLAGS is a list of flags.
  "$build/tools/bench/scale_bench" --index="127.0.0.1:$port" --server_pid="$server" --n="$n" \
    --queries="$queries" ${SCALE_FLAGS:-} "$@"
}
echo "## Index at registry scale, n=$n, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(git rev-parse --short HEAD)"
start_server
bench --phase=fill
bench --phase=query --truth="$work/truth"
killed_ms=$(date +%s%3N)
kill -9 "$server"
wait "$server" 2>/dev/null || true
start_server
bench --phase=ready --since_unix_ms="$killed_ms"
bench --phase=query --truth="$work/truth"
echo "| data on disk | $(du -sm "$work/index" | cut -f1) MiB |"
