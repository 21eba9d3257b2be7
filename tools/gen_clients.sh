#!/usr/bin/env bash
# Generates the client libraries' protobuf/gRPC code from protos/ (the contracts):
#   clients/python/dogsearch/v1/*_pb2.py, *_pb2_grpc.py, *.pyi   (protoc + grpc_python_plugin)
# The generated files are checked in; CTest's clients_generated_code_test runs this into a
# temporary folder and fails when the checked-in files differ (a contract change that forgot
# the clients). The TypeScript client loads the .proto files at run time (@grpc/proto-loader)
# from its own copy, checked the same way.
#   tools/gen_clients.sh [OUT_ROOT]   (default: the repository, i.e. regenerate in place)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root}"
py="$out/clients/python"
mkdir -p "$py/dogsearch/v1" "$out/clients/typescript/protos/dogsearch/v1"
rm -f "$py"/dogsearch/v1/*_pb2.py "$py"/dogsearch/v1/*_pb2_grpc.py "$py"/dogsearch/v1/*.pyi
protos=(dogsearch/v1/model.proto dogsearch/v1/embedding.proto dogsearch/v1/index.proto
        dogsearch/v1/dogsearch.proto dogsearch/v1/trainer.proto)
(cd "$root/protos" && protoc -I. --python_out="$py" --pyi_out="$py" \
  --grpc_python_out="$py" --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  "${protos[@]}")
for p in "${protos[@]}"; do cp "$root/protos/$p" "$out/clients/typescript/protos/$p"; done
