#!/usr/bin/env bash
# Runs the embedding benchmarks in one go on this machine: the C++ service and in-process
# LibTorch (embedding_bench), then the seed project's Python way of serving
# (seed_python_bench.py; needs Debian's python3-torch and python3-pil). Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-8}"
cmake --build build --target embedding_bench >/dev/null
echo "## Embedding, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
build/tools/bench/embedding_bench --seconds="$seconds"
/usr/bin/python3 tools/bench/seed_python_bench.py --seconds "$seconds"
