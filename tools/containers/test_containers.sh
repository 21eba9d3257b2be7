#!/usr/bin/env bash
# Only the container test, from a fresh clone, in one command (the README's test command runs it
# too, among all the others): installs what the build and podman need (tools/install_deps.sh),
# builds the programs the images carry and the test into build/, then runs the CTest label
# `containers`: the fixture makes the debian:12 base image and the four images from those
# programs (build_images.sh --binaries build), then tests/deploy/container_e2e_test.cc brings
# the stack up. Extra arguments go to ctest.
#
#   tools/containers/test_containers.sh
#   DOGSEARCH_IMAGES_FROM_SOURCE=1 tools/containers/test_containers.sh   (compile in the image
#                                             build, as `docker compose up --build` does)
# Times on the project's 2-core machine: docs/OPERATIONS.md, "Containers".
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
tools/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target container_e2e_test \
  $(grep -v '^#' deploy/docker/binaries.txt | xargs -n1 basename)
ctest --test-dir build --output-on-failure -L containers "$@"
