#!/usr/bin/env bash
# Generates a development CA and certificates for dogsearch's gRPC services with openssl.
#
#   tools/gen_dev_certs.sh OUT_DIR [NAME ...]
#
# Writes OUT_DIR/ca.{crt,key} and, for each NAME (default: embedding index trainer gateway
# client), OUT_DIR/NAME.{crt,key}: signed by the CA, usable as server and client
# certificates, with subjectAltName NAME, localhost and 127.0.0.1. An existing CA in OUT_DIR
# is reused, so certificates can be added later. For development and tests only: the keys are
# written unencrypted.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 OUT_DIR [NAME ...]" >&2
  exit 2
fi
out="$1"
shift
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(embedding index trainer gateway client)

mkdir -p "$out"
umask 077
if [[ ! -f "$out/ca.key" ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 \
    -subj "/CN=dogsearch development CA" \
    -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi

for name in "${names[@]}"; do
  if [[ ! "$name" =~ ^[A-Za-z0-9._-]+$ ]]; then
    echo "bad certificate name '$name'" >&2
    exit 2
  fi
  ext="$(mktemp)"
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' \
    "$name" > "$ext"
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$name" \
    -keyout "$out/$name.key" -out "$out/$name.csr" 2>/dev/null
  openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -CAcreateserial -days 825 -sha256 -extfile "$ext" -out "$out/$name.crt" 2>/dev/null
  rm -f "$out/$name.csr" "$ext"
done
chmod 644 "$out"/*.crt
echo "certificates written to $out"
