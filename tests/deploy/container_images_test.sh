#!/usr/bin/env bash
# CTest fixture of the container test: builds the four images (tools/containers/build_images.sh)
# where podman can run containers. Exits 77 (CTest: skipped), saying why, where this machine
# cannot: podman missing, under 8 GiB of disk for its storage, no debian:12 base (debootstrap
# needs root and Debian's mirror), podman
# unable to start a container, or containers unable to reach the mirror. A failing image build
# on a machine that can run containers is a failure.
#
#   container_images_test.sh [BUILD_DIR]
# With BUILD_DIR (CTest passes its own) on a Debian 12 host, the images take the programs from
# that build (build_images.sh --binaries) instead of compiling them again inside the image
# build; DOGSEARCH_IMAGES_FROM_SOURCE=1 compiles them in the Dockerfile's build stage, as
# `docker compose up --build` does.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/tools/containers/env.sh"
skip() { echo "SKIP (container test): $*"; exit 77; }

command -v podman >/dev/null && command -v podman-compose >/dev/null \
  || skip "needs podman, runc and podman-compose (tools/install_deps.sh installs them)"
# The four images and the build stage take about 6 GB (more while building).
storage="$(podman info --format '{{.Store.GraphRoot}}' 2>/dev/null || echo /var/lib/containers)"
mkdir -p "$storage" 2>/dev/null || true
free_kb="$(df -Pk "$storage" 2>/dev/null | awk 'NR==2 {print $4}')"
[[ -n "$free_kb" && "$free_kb" -lt $((8 * 1024 * 1024)) ]] \
  && skip "only $((free_kb / 1024)) MiB free under $storage; the image build needs about 8 GiB"
out="$("$root/tools/containers/base_image.sh" 2>&1)" || skip "no debian:12 base image: $out"
echo "$out"
out="$(podman run --rm --pull=never debian:12 true 2>&1)" \
  || skip "podman cannot start a container on this machine: $out"
out="$(podman run --rm --pull=never debian:12 apt-get update 2>&1)" \
  || skip "containers cannot reach Debian's package mirror, which the image build needs: $(tail -3 <<<"$out")"
if [[ -n "${1:-}" && "${DOGSEARCH_IMAGES_FROM_SOURCE:-0}" != 1 ]] \
  && [[ "$(. /etc/os-release && echo "$ID $VERSION_ID")" == "debian 12" ]]; then
  exec "$root/tools/containers/build_images.sh" --binaries "$1"
fi
exec "$root/tools/containers/build_images.sh"
