#!/usr/bin/env bash
# Builds dogsearch's four images with podman from deploy/docker/Dockerfile: the shared build
# stage runs once (podman's layer cache), then each final stage; prints each image's size and
# the wall time. Makes the debian:12 base first where it is missing (base_image.sh).
#
#   tools/containers/build_images.sh [--binaries BUILD_DIR] [TAG]   (TAG defaults to latest)
# Images: dogsearch/{index,embedding,trainer,gateway}:TAG, as deploy/docker-compose.yml names
# them. With Docker instead: docs/OPERATIONS.md, "Containers".
# --binaries BUILD_DIR: the programs (deploy/docker/binaries.txt) come from that Release build
# folder of this tree instead of the Dockerfile's build stage; only on Debian 12, whose packages
# the images run on (the test command does this, so the servers are compiled once).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/env.sh"
binaries=""
if [[ "${1:-}" == --binaries ]]; then binaries="${2:?--binaries needs a build folder}"; shift 2; fi
tag="${1:-latest}"
command -v podman >/dev/null || { echo "build_images: needs podman (apt-get install podman runc)" >&2; exit 1; }
build_args=()
if [[ -n "$binaries" ]]; then
  # shellcheck disable=SC1091
  [[ "$(. /etc/os-release && echo "$ID $VERSION_ID")" == "debian 12" ]] \
    || { echo "build_images: --binaries needs a Debian 12 host (the images' packages)" >&2; exit 1; }
  staged="$root/.prebuilt"
  rm -rf "$staged" && mkdir -p "$staged"
  trap 'rm -rf "$staged"' EXIT
  while read -r path; do
    [[ -x "$binaries/$path" ]] || { echo "build_images: $binaries/$path is missing: build it first" >&2; exit 1; }
    install -s -m 755 "$binaries/$path" "$staged/"
  done < <(grep -v '^#' "$root/deploy/docker/binaries.txt")
  build_args=(--build-arg BINARIES=prebuilt)
  echo "build_images: programs from $binaries (not compiled in the image build)"
fi

"$here/base_image.sh"
log="${BUILD_LOG:-$(mktemp /tmp/dogsearch-build.XXXXXX.log)}"
echo "build_images: log in $log"
start=$(date +%s)
for target in index gateway embedding trainer; do
  t0=$(date +%s)
  echo "build_images: building dogsearch/$target:$tag"
  podman build --pull=never --layers "${build_args[@]}" -f "$root/deploy/docker/Dockerfile" --target "$target" \
    -t "dogsearch/$target:$tag" "$root" >>"$log" 2>&1 || {
    tail -40 "$log" >&2; echo "build_images: dogsearch/$target failed (whole log: $log)" >&2; exit 1; }
  echo "build_images: dogsearch/$target:$tag built in $(( $(date +%s) - t0 )) s"
done
echo "build_images: all four built in $(( $(date +%s) - start )) s"
printf '%-28s %10s\n' IMAGE SIZE
for target in index gateway embedding trainer; do
  size=$(podman image inspect --format '{{.Size}}' "dogsearch/$target:$tag")
  awk -v n="dogsearch/$target:$tag" -v s="$size" 'BEGIN { printf "%-28s %7.0f MB\n", n, s / 1e6 }'
done
