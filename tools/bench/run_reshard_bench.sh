#!/usr/bin/env bash
# Shard-count change benchmark (issue #22; dogsearch-reshard): starts three index_servers,
# bulk-loads N records into the first (scale_bench's fill: N/5 dogs, 128-d), then times
# dogsearch-reshard moving them 1 -> 2 shards and 2 -> 3 shards in place, and prints Markdown
# rows for docs/BENCHMARKS.md (records moved, seconds, records/s, each server's RSS after).
# Usage: tools/bench/run_reshard_bench.sh [N] [BATCH]
# SCALE_FLAGS (environment): extra scale_bench fill flags (--vector_encoding=float16, ...).
# BUILD_DIR (environment): a configured build folder to take the binaries from, as they are.
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100000}"
batch="${2:-500}"
build="${BUILD_DIR:-build}"
[ -n "${BUILD_DIR:-}" ] ||
  cmake --build build --target scale_bench index_server dogsearch-reshard >/dev/null
work="$(mktemp -d "${TMPDIR:-/tmp}/dogsearch-reshard.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ports=()
for s in 0 1 2; do
  "$build/services/index/index_server" --address=127.0.0.1:0 --data_dir="$work/index$s" \
    --log_level=warning > "$work/index$s.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 6000); do
    grep -q "^index listening" "$work/index$s.out" && break
    kill -0 "${pids[$s]}" 2>/dev/null || { cat "$work/index$s.out" >&2; exit 1; }
    sleep 0.01
  done
  ports+=("$(grep "^index listening" "$work/index$s.out" | awk '{print $NF}')")
done
a="127.0.0.1:${ports[0]}" b="127.0.0.1:${ports[1]}" c="127.0.0.1:${ports[2]}"
echo "## Shard-count change, n=$n, batch $batch, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(git rev-parse --short HEAD)"
# shellcheck disable=SC2086  # SCALE_FLAGS is a list of flags.
"$build/tools/bench/scale_bench" --index="$a" --server_pid="${pids[0]}" --n="$n" --phase=fill \
  ${SCALE_FLAGS:-} | grep -v '^|' || true
rss() { echo "$(( $(awk '/VmRSS/{print $2}' "/proc/$1/status") / 1024 ))"; }
echo "| change | records moved | seconds | records/s | RSS MiB after (a / b / c) |"
echo "|---|---|---|---|---|"
move() {
  local label="$1" from="$2" to="$3"
  local out
  out="$("$build/services/gateway/dogsearch-reshard" --from="$from" --to="$to" --batch="$batch" 2>/dev/null)"
  local moved secs
  moved=$(echo "$out" | tail -1 | sed -E 's/.* ([0-9]+) records moved in ([0-9.]+) s.*/\1/')
  secs=$(echo "$out" | tail -1 | sed -E 's/.* records moved in ([0-9.]+) s.*/\1/')
  echo "| $label | $moved | $secs | $(awk -v m="$moved" -v s="$secs" 'BEGIN{printf "%.0f", m/s}') | $(rss "${pids[0]}") / $(rss "${pids[1]}") / $(rss "${pids[2]}") |"
}
move "1 -> 2 shards" "$a" "$a,$b"
move "2 -> 3 shards" "$a,$b" "$a,$b,$c"
