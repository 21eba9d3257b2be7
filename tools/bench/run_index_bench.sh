#!/usr/bin/env bash
# Runs both index benchmarks on the same data set, one after the other, and prints Markdown
# for docs/BENCHMARKS.md. Usage: tools/bench/run_index_bench.sh [N] [QUERIES]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100000}"
q="${2:-1000}"
cmake --build build --target index_bench hnswlib_bench >/dev/null
echo "## Index, n=$n, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "### Baseline: in-process hnswlib"
build/tools/bench/hnswlib_bench --n="$n" --queries="$q"
echo
echo "### dogsearch index service over loopback gRPC"
build/tools/bench/index_bench --n="$n" --queries="$q"
