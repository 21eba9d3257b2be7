#!/usr/bin/env bash
# CTest wrapper: deploy/k8s must validate, and a broken copy must not (the check can fail).
# Exits 77 (skipped) without Node.js or tests/deploy/node_modules (npm ci --prefix tests/deploy).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v node >/dev/null || [ ! -d "$here/node_modules/kubernetes-models" ]; then
  echo "SKIP: needs node and tests/deploy/node_modules"; exit 77
fi
node "$here/validate_k8s.mjs" "$here/../../deploy/k8s" "$here/../../deploy/k8s/jobs"
broken="$(mktemp -d)"
trap 'rm -rf "$broken"' EXIT
cp "$here/../../deploy/k8s/"*.yaml "$broken/"
sed -i 's/replicas: 2/replicas: two/' "$broken/20-embedding.yaml"
sed -i 's/runAsNonRoot: true, //' "$broken/40-gateway.yaml"
sed -i 's/replicas: 2/replicas: 3/' "$broken/10-index.yaml"  # Scaled without the gateway.
if out="$(node "$here/validate_k8s.mjs" "$broken")"; then
  echo "FAIL: a broken manifest validated"; exit 1
fi
echo "$out" | grep -q 'Deployment/embedding' || { echo "FAIL: replicas: two not reported"; exit 1; }
echo "$out" | grep -q 'runAsNonRoot' || { echo "FAIL: missing runAsNonRoot not reported"; exit 1; }
echo "$out" | grep -q 'index_shards lists 2 targets.*3 replicas' ||
  { echo "FAIL: shards out of step with the StatefulSet not reported"; exit 1; }
echo "broken copy refused as expected"
