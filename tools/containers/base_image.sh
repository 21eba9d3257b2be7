#!/usr/bin/env bash
# Makes the `debian:12` image that deploy/docker/Dockerfile starts FROM, where no registry of
# container images can be reached: a minimal Debian 12 root file system from Debian's own package
# mirror (debootstrap --variant=minbase), imported into podman under the names `FROM debian:12`
# resolves to. Cached: does nothing when the image exists (--force rebuilds it).
#
#   tools/containers/base_image.sh [--force]
# Needs: root, podman, debootstrap; the mirror in $DEBIAN_MIRROR (default deb.debian.org).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
image=docker.io/library/debian:12

if [[ "${1:-}" != "--force" ]] && podman image exists "$image"; then
  echo "base_image: $image exists ($(podman image inspect --format '{{.Created}}' "$image"))"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "base_image: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }

root="$(mktemp -d /var/tmp/dogsearch-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2; echo "base_image: debootstrap failed (log: $root.log)" >&2; exit 1; }
rm -f "$root.log"
# The same package sources as Debian's official image: updates and security fixes too.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: ${mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# As in Debian's official image: no package caches or lists in the image.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/99no-recommends"

tar -C "$root" --numeric-owner -c . | podman import --quiet \
  --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  - "$image" >/dev/null
podman tag "$image" localhost/debian:12
echo "base_image: built $image in $(( $(date +%s) - start )) s," \
     "$(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
