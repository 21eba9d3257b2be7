#!/usr/bin/env bash
# Fails when the client libraries' checked-in generated code no longer matches protos/ (a
# contract change that forgot `tools/gen_clients.sh`).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v grpc_python_plugin >/dev/null || { echo "SKIP: needs grpc_python_plugin"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$root/tools/gen_clients.sh" "$tmp"
status=0
for sub in clients/python/dogsearch/v1 clients/typescript/protos/dogsearch/v1; do
  for f in "$tmp/$sub"/*; do
    name="$sub/$(basename "$f")"
    if ! cmp -s "$f" "$root/$name"; then
      echo "FAIL: $name differs from what tools/gen_clients.sh makes from protos/; run it and commit"
      status=1
    fi
  done
done
[ "$status" -ne 0 ] || echo "generated client code matches protos/"
exit "$status"
