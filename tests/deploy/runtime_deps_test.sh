#!/usr/bin/env bash
# The Dockerfile's final stages install only tools/install_deps.sh's run-time lists: the gateway
# and index images `--runtime-light`, the embedding and trainer images `--runtime-light` plus
# `--runtime-torch`. Check that each list really covers what its binaries load: every shared
# library must come from a package in that list's dependency closure. So a light image cannot
# silently need LibTorch, and no image misses a library. Exits 77 (skipped) off Debian (no dpkg).
# Usage: runtime_deps_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$1"
command -v dpkg >/dev/null && command -v apt-cache >/dev/null || { echo "SKIP: needs dpkg"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

list() {  # list NAME: the packages of install_deps.sh's array NAME, space-separated
  sed -n "/^$1=(/,/^)/p" "$root/tools/install_deps.sh" | sed '1d;$d' | tr -s ' \n' ' '
}
closure() {  # closure PACKAGES...: the packages they pull in at run time, one per line
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" 2>/dev/null | grep -v '^ ' | sed 's/:amd64$//' | sort -u
}

# check NAME CLOSURE_FILE BINARY...: every library the binaries load is in the closure.
check() {
  local name="$1" closure_file="$2"; shift 2
  local libs="$tmp/libs" needed="$tmp/needed" missing=0 bin
  : >"$libs"; : >"$needed"
  for bin in "$@"; do
    [ -x "$build/$bin" ] || { echo "FAIL: $build/$bin not built"; exit 1; }
    ldd "$build/$bin" | awk '/=> \//{print $3}' >>"$libs"
  done
  # One dpkg query for every library (by its resolved path, and by the path ldd printed).
  mapfile -t paths < <(sort -u "$libs")
  mapfile -t reals < <(for l in "${paths[@]}"; do readlink -f "$l"; done)
  local owners
  owners="$(dpkg -S "${paths[@]}" "${reals[@]}" 2>/dev/null || true)"
  for i in "${!paths[@]}"; do
    pkg="$(grep -m1 -F ": ${reals[$i]}" <<<"$owners" | cut -d: -f1 || true)"
    [ -n "$pkg" ] || pkg="$(grep -m1 -F ": ${paths[$i]}" <<<"$owners" | cut -d: -f1 || true)"
    if [ -z "$pkg" ]; then echo "FAIL: ${paths[$i]} is loaded but no Debian package provides it"; missing=1; continue; fi
    if ! grep -qx "$pkg" "$closure_file"; then
      echo "FAIL: ${paths[$i]} (from $pkg) is loaded by the $name image's binaries but not in its run-time list"
      missing=1
    fi
    echo "$pkg" >>"$needed"
  done
  [ "$missing" -eq 0 ] || exit 1
  echo "$name: the run-time list covers all $(sort -u "$needed" | wc -l) packages that $* load"
}

light="$(list RUNTIME_PACKAGES)"; torch="$(list RUNTIME_TORCH_PACKAGES)"
[ -n "$light" ] && [ -n "$torch" ] || { echo "FAIL: RUNTIME_PACKAGES or RUNTIME_TORCH_PACKAGES missing in install_deps.sh"; exit 1; }
# shellcheck disable=SC2086
closure $light >"$tmp/light"
# shellcheck disable=SC2086
closure $light $torch >"$tmp/torch"
if grep -qE '^libtorch|^libopencv' "$tmp/light"; then
  echo "FAIL: the light run-time list pulls in LibTorch or OpenCV"; exit 1
fi
check light "$tmp/light" services/index/index_server services/gateway/gateway_server tools/cli/dogsearch
check torch "$tmp/torch" services/embedding/embedding_server services/trainer/trainer_server \
  services/trainer/dogsearch-train services/trainer/dogsearch-eval
