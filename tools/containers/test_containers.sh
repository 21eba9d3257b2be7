#!/usr/bin/env bash
# Only the container test, from a fresh clone, in one command (the README's test command runs it
# too, among all the others): installs what the build and podman need (tools/install_deps.sh),
# builds the CLI and the test into build/, then runs the CTest label `containers`: the fixture
# makes the debian:12 base image and the four images (build_images.sh), then
# tests/deploy/container_e2e_test.cc brings the stack up. Extra arguments go to ctest.
#
#   tools/containers/test_containers.sh
# Times on the project's 2-core machine: docs/OPERATIONS.md, "Containers".
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
tools/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target dogsearch container_e2e_test
ctest --test-dir build --output-on-failure -L containers "$@"
