#!/usr/bin/env bash
# The Dockerfile's final stages install only `tools/install_deps.sh --runtime`. Check that this
# list really covers the servers and the CLI: every shared library they load must come from a
# package in the runtime list's dependency closure. Exits 77 (skipped) off Debian (no dpkg).
# Usage: runtime_deps_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$1"
command -v dpkg >/dev/null && command -v apt-cache >/dev/null || { echo "SKIP: needs dpkg"; exit 77; }
runtime=$(sed -n '/^RUNTIME_PACKAGES=(/,/^)/p' "$root/tools/install_deps.sh" | sed '1d;$d' | tr -s ' \n' ' ')
[ -n "$runtime" ] || { echo "FAIL: no RUNTIME_PACKAGES in install_deps.sh"; exit 1; }
closure="$(mktemp)"; needed="$(mktemp)"
trap 'rm -f "$closure" "$needed"' EXIT
# shellcheck disable=SC2086
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $runtime 2>/dev/null | grep -v '^ ' | sed 's/:amd64$//' | sort -u > "$closure"
libs="$(mktemp)"
trap 'rm -f "$closure" "$needed" "$libs"' EXIT
for bin in services/index/index_server services/embedding/embedding_server \
           services/trainer/trainer_server services/gateway/gateway_server tools/cli/dogsearch; do
  [ -x "$build/$bin" ] || { echo "FAIL: $build/$bin not built"; exit 1; }
  ldd "$build/$bin" | awk '/=> \//{print $3}' >> "$libs"
done
missing=0
# One dpkg query for every library (by its resolved path, and by the path ldd printed).
mapfile -t paths < <(sort -u "$libs")
mapfile -t reals < <(for l in "${paths[@]}"; do readlink -f "$l"; done)
owners="$(dpkg -S "${paths[@]}" "${reals[@]}" 2>/dev/null || true)"
for i in "${!paths[@]}"; do
  pkg="$(grep -m1 -F ": ${reals[$i]}" <<<"$owners" | cut -d: -f1 || true)"
  [ -n "$pkg" ] || pkg="$(grep -m1 -F ": ${paths[$i]}" <<<"$owners" | cut -d: -f1 || true)"
  if [ -z "$pkg" ]; then echo "FAIL: ${paths[$i]} is loaded but no Debian package provides it"; missing=1; continue; fi
  if ! grep -qx "$pkg" "$closure"; then
    echo "FAIL: ${paths[$i]} (from $pkg) is loaded but not in install_deps.sh --runtime"; missing=1
  fi
  echo "$pkg" >> "$needed"
done
[ "$missing" -eq 0 ] || exit 1
echo "runtime list covers all $(sort -u "$needed" | wc -l) packages the five binaries load"
