#!/usr/bin/env bash
# Installs every Debian 12 package dogsearch needs to build, test and run. The one list of
# dependencies: .ci/run, the README's commands and (later) the Dockerfiles all call this.
# Idempotent: packages already installed are left alone. Needs root (or sudo).
# (chromium is for the web page's browser test, tests/web.)
#
#   tools/install_deps.sh              build + test + run dependencies
#   tools/install_deps.sh --build-only build dependencies without the test tools (Dockerfile)
#   tools/install_deps.sh --runtime    only what the built binaries need at run time
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
# Tests only: the web page's browser test (tests/web), the deployment checks (tests/deploy) and
# the client libraries' tests (tests/clients: Debian's grpcio and protobuf for Python, and pip,
# setuptools and wheel to install the Python client as a user would).
TEST_PACKAGES=(
  chromium fonts-dejavu-core
  docker-compose python3-yaml
  python3-grpcio python3-protobuf python3-pip python3-setuptools python3-wheel
)
RUNTIME_PACKAGES=(
  libtorch1.13 libgrpc++1.51 libprotobuf32 libopencv-imgcodecs406 libopencv-imgproc406
  libopencv-core406 libssl3 libsqlite3-0 openssl ca-certificates
)

# Node.js runs the two npm-based checks; a machine that already has a Node.js of its own (e.g.
# NodeSource's, which bundles npm) keeps it, since Debian's npm would conflict with it.
if ! command -v node >/dev/null; then TEST_PACKAGES+=(nodejs npm); fi

case "${1:-}" in
  --runtime) packages=("${RUNTIME_PACKAGES[@]}") ;;
  --build-only) packages=("${BUILD_PACKAGES[@]}") ;;
  "") packages=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
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
