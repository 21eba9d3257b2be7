#!/usr/bin/env bash
# Installs every Debian 12 package dogsearch needs to build, test and run. The one list of
# dependencies: .ci/run, the README's commands and (later) the Dockerfiles all call this.
# Idempotent: packages already installed are left alone. Needs root (or sudo).
# (chromium is for the web page's browser test, tests/web.)
#
#   tools/install_deps.sh          build + test + run dependencies
#   tools/install_deps.sh --runtime  only what the built binaries need at run time
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libtorch-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libopencv-dev
  libhnswlib-dev
  libabsl-dev
  libgtest-dev libgmock-dev
  libssl-dev libsqlite3-dev libcpp-httplib-dev
  openssl ca-certificates
  curl unzip
  chromium fonts-dejavu-core
)
RUNTIME_PACKAGES=(
  libtorch1.13 libgrpc++1.51 libprotobuf32 libopencv-imgcodecs406 libopencv-imgproc406
  libopencv-core406 libssl3 libsqlite3-0 libcpp-httplib0.11 openssl ca-certificates
)

packages=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--runtime" ]]; then
  packages=("${RUNTIME_PACKAGES[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
