#!/usr/bin/env bash
# Installs the Python client the way a user would (pip, from clients/python, offline: Debian's
# setuptools and wheel build it) into a temporary folder, then runs its test against real
# servers with that installed copy. Exits 77 (CTest: skipped) without Debian's python3-grpcio
# or pip.
#   run_python_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
py=/usr/bin/python3
if ! "$py" -c 'import grpc, google.protobuf' 2>/dev/null || ! "$py" -m pip --version >/dev/null 2>&1; then
  echo "SKIP: needs python3-grpcio, python3-protobuf and python3-pip (tools/install_deps.sh)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/clients/python" "$tmp/src"   # Build outside the tree (no build/ or egg-info left).
"$py" -m pip install --quiet --no-deps --no-build-isolation --no-index --target "$tmp/site" \
  "$tmp/src" 2>&1 | grep -v "Running pip as the 'root' user" || true
[ -f "$tmp/site/dogsearch/client.py" ] || { echo "FAIL: pip did not install the client"; exit 1; }
DOGSEARCH_CLIENT_INSTALLED=1 PYTHONPATH="$tmp/site" "$py" "$root/tests/clients/python_client_test.py" "$1"
