#!/usr/bin/env bash
# The test command: installs missing Debian packages, builds everything (Release) into
# build/, and runs every test through CTest. Tests that need the DogFaceNet photos skip with a
# message when they are absent. Extra arguments go to ctest (e.g. -R Checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh
# The web page's browser test drives Debian's chromium with playwright-core from npm; the
# Kubernetes manifests are validated offline with kubernetes-models from npm; the TypeScript
# client needs @grpc/grpc-js, @grpc/proto-loader and typescript from npm; the pretrained
# start's conversion check needs nsfwjs and TensorFlow.js (tools/pretrained).
if command -v npm >/dev/null; then
  for d in tests/web tests/deploy clients/typescript tools/pretrained; do
    npm ci --prefix "$d" --no-audit --no-fund --loglevel=error \
      || echo "run_tests: npm ci in $d failed; its tests will be skipped"
  done
fi
jobs="$(nproc)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900 "$@"
