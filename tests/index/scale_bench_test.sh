#!/usr/bin/env bash
# The registry-scale benchmark (issue #22) at a small size, so that the tool keeps working: for
# float32 and int8, fill 20,000 records, snapshot, search (recall against exact search), kill -9
# the index, restart it from its snapshot, and search again with the same answers.
# Usage: scale_bench_test.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
src="$(cd "$(dirname "$0")/../.." && pwd)"
for encoding in float32 int8; do
  out=$(BUILD_DIR="$build" SCALE_FLAGS="--vector_encoding=$encoding --seconds=1" \
    "$src/tools/bench/run_scale_bench.sh" 20000 50)
  echo "$out"
  grep -q "^| fill | 20000 records | .* records/s | server RSS" <<<"$out" || { echo "no fill row"; exit 1; }
  grep -q "^| snapshot | " <<<"$out" || { echo "no snapshot row"; exit 1; }
  grep -q "^| restart | serving again .* s after kill -9" <<<"$out" || { echo "no restart row"; exit 1; }
  mapfile -t recalls < <(grep -o "recall@10 [0-9.]*" <<<"$out" | awk '{print $2}')
  [ "${#recalls[@]}" -eq 2 ] || { echo "expected two recall figures, got ${#recalls[@]}"; exit 1; }
  [ "${recalls[0]}" = "${recalls[1]}" ] || { echo "$encoding: recall ${recalls[0]} before the restart, ${recalls[1]} after"; exit 1; }
  awk -v r="${recalls[0]}" 'BEGIN { exit !(r >= 0.9) }' || { echo "$encoding: recall@10 ${recalls[0]} < 0.9"; exit 1; }
done
echo "scale benchmark: OK"
