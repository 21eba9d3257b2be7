#!/usr/bin/env bash
# Runs the index benchmarks on one data set, one after the other, and prints Markdown for
# docs/BENCHMARKS.md: in-process hnswlib (the baseline), then a real index_server process
# measured over loopback gRPC (its CPU time read from /proc), then the server's data opened in
# process for the index core's own search. Usage: tools/bench/run_index_bench.sh [N] [QUERIES]
# (extra index_bench flags, e.g. --efs=64 --ingest_records=0, via INDEX_BENCH_FLAGS).
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100000}"
q="${2:-1000}"
cmake --build build --target index_bench hnswlib_bench index_server >/dev/null
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
echo "## Index, n=$n, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "### Baseline: in-process hnswlib"
build/tools/bench/hnswlib_bench --n="$n" --queries="$q" --baseline_out="$work/baseline" \
  --truth_out="$work/truth"
echo
echo "### dogsearch index server over loopback gRPC (server CPU from /proc/PID/stat)"
build/services/index/index_server --address=127.0.0.1:0 --data_dir="$work/index" \
  --sync_policy=none --log_level=warning > "$work/index.out" &
server=$!
for _ in $(seq 1 300); do grep -q "^index listening" "$work/index.out" && break; sleep 0.1; done
port=$(grep "^index listening" "$work/index.out" | awk '{print $NF}')
# shellcheck disable=SC2086  # INDEX_BENCH_FLAGS is a list of flags.
build/tools/bench/index_bench --phase=service --index="127.0.0.1:$port" --server_pid="$server" \
  --n="$n" --queries="$q" --baseline="$work/baseline" --truth="$work/truth" ${INDEX_BENCH_FLAGS:-}
kill "$server"
wait "$server" || true
server=""
echo
echo "### The index core in process (the server's data, no gRPC)"
# shellcheck disable=SC2086
build/tools/bench/index_bench --phase=core --data_dir="$work/index" --n="$n" --queries="$q" \
  --baseline="$work/baseline" --truth="$work/truth" ${INDEX_BENCH_FLAGS:-}
