#!/usr/bin/env bash
# Installs every Debian 12 package dogsearch needs to build, test and run. The one list of
# dependencies: .ci/run, the README's commands and (later) the Dockerfiles all call this.
# Idempotent: packages already installed are left alone. Needs root (or sudo).
# (chromium is for the web page's browser test, tests/web.)
#
#   tools/install_deps.sh              build + test + run dependencies
#   tools/install_deps.sh --build-only build dependencies without the test tools (Dockerfile)
#   tools/install_deps.sh --runtime    only what the built binaries need at run time (all of them)
#   tools/install_deps.sh --runtime-light  what the gateway, the index and the CLI need at run time
#   tools/install_deps.sh --runtime-torch  what the embedding and the trainer need on top of light
#   tools/install_deps.sh --containers podman and what tools/containers/ needs (also in the default)
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
)
# Tests only: the formatting check (tools/check_format.sh), the web page's browser test (tests/web), the deployment checks (tests/deploy) and
# the client libraries' tests (tests/clients: Debian's grpcio and protobuf for Python, and pip,
# setuptools and wheel to install the Python client as a user would).
TEST_PACKAGES=(
  clang-format
  chromium fonts-dejavu-core
  docker-compose python3-yaml
  python3-grpcio python3-protobuf python3-pip python3-setuptools python3-wheel
)
# The container test (tests/deploy/container_e2e_test.cc, tools/containers/): podman with runc
# (crun fails on these machines' hybrid cgroups), catatonit for `init: true`, CNI networking
# with its dnsname plugin (the services find each other by name, `embedding:50051`: without the
# plugin podman creates the compose network without DNS), podman-compose, and debootstrap for
# the debian:12 base image.
CONTAINER_PACKAGES=(
  podman runc catatonit containernetworking-plugins golang-github-containernetworking-plugin-dnsname
  podman-compose debootstrap
)
# Run time, split so that the gateway's and the index's images carry no LibTorch or OpenCV
# (tests/deploy/runtime_deps_test.sh checks each binary against its list).
RUNTIME_PACKAGES=(
  libgrpc++1.51 libprotobuf32 libssl3 libsqlite3-0 openssl ca-certificates
)
RUNTIME_TORCH_PACKAGES=(
  libtorch1.13 libopencv-imgcodecs406 libopencv-imgproc406 libopencv-core406
)

# Node.js runs the two npm-based checks; a machine that already has a Node.js of its own (e.g.
# NodeSource's, which bundles npm) keeps it, since Debian's npm would conflict with it.
if ! command -v node >/dev/null; then TEST_PACKAGES+=(nodejs npm); fi

case "${1:-}" in
  --runtime) packages=("${RUNTIME_PACKAGES[@]}" "${RUNTIME_TORCH_PACKAGES[@]}") ;;
  --runtime-light) packages=("${RUNTIME_PACKAGES[@]}") ;;
  --runtime-torch) packages=("${RUNTIME_TORCH_PACKAGES[@]}") ;;
  --build-only) packages=("${BUILD_PACKAGES[@]}") ;;
  --containers) packages=("${CONTAINER_PACKAGES[@]}") ;;
  "") packages=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${CONTAINER_PACKAGES[@]}") ;;
  *) echo "install_deps: unknown option $1" >&2; exit 2 ;;
esac

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
