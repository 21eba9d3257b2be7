#!/usr/bin/env bash
# The pretrained start's conversion end to end: tools/pretrained/convert_nsfwjs.mjs dequantises
# nsfwjs' MobileNetV2 and runs it in TensorFlow.js on fixed inputs; dogsearch-import-keras loads
# the weights into the C++ MobileNetV2 by Keras name and must reproduce TensorFlow.js' pooled
# features to 1e-2 before it publishes a checkpoint, which must then load as a model.
# Skips (77) where tools/pretrained's npm packages are not installed (tools/run_tests.sh does).
set -euo pipefail
BUILD=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
[[ -d tools/pretrained/node_modules/nsfwjs ]] ||
  { echo "SKIP: npm ci --prefix tools/pretrained has not been run"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
node tools/pretrained/convert_nsfwjs.mjs "$T/keras" 2>&1 | grep -v 'tfjs-node\|^=*$\|^Hi, looks' || true
[[ -f $T/keras/check_features.bin ]] || { echo "FAIL: the converter wrote no check features"; exit 1; }
out=$("$BUILD/tools/dogsearch-import-keras" --keras "$T/keras" --out "$T/ckpt" --version mnv2-test)
echo "$out"
grep -q "imported 260 tensors; kept as initialised: dense.weight dense.bias" <<<"$out"
grep -q "published" <<<"$out"
grep -q '"architecture": "mobilenet_v2"' "$T/ckpt/mnv2-test/manifest.json"
grep -q 'nsfwjs@4.4.0 (MIT licence)' "$T/ckpt/mnv2-test/manifest.json"
# A damaged conversion (one trunk value changed) must be caught by the feature check.
python3 - "$T/keras/keras_weights.bin" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4 * 10); f.write(struct.pack("<f", 5.0))   # Conv1/kernel, an input weight
PY
if "$BUILD/tools/dogsearch-import-keras" --keras "$T/keras" --out "$T/ckpt" --version mnv2-bad \
    2>"$T/err"; then
  echo "FAIL: a damaged conversion was published"; exit 1
fi
grep -q "does not match TensorFlow.js" "$T/err"
echo "pretrained_import_test: conversion matches TensorFlow.js; a damaged one is refused"
