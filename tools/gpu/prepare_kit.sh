#!/usr/bin/env bash
# Prepares the GPU kit (docs/GPU.md) on a Debian 12 machine: what must travel with the checkout
# to a GPU machine that has none of Debian's packages and no network.
#   <kit>/debs/      libabsl-dev, libprotobuf-dev, libssl-dev, zlib1g-dev (.deb, apt-get download)
#   <kit>/gen/       protoc's C++ for protos/dogsearch/v1/model.proto (checkpoint manifests)
#   <kit>/photos.bin the validation photos, decoded and resized (build/tools/gpu_kit_photos)
#   <kit>/MANIFEST   what is there, with sizes
# and checks that it all fits in 64 MiB (what the device tool carries besides the tree).
# Usage: tools/gpu/prepare_kit.sh [--kit DIR] [--data DIR] [--build DIR] [--synthetic]
#   --synthetic: generated photos instead of the data set (the dry run where it is absent).
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=gpu_kit
DATA=../shared/datasets/dogfacenet/after_4_bis
BUILD=build
SYNTHETIC=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --kit) KIT=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --synthetic) SYNTHETIC=1; shift ;;
    *) echo "prepare_kit.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
readonly PACKAGES="libabsl-dev libprotobuf-dev libssl-dev zlib1g-dev"
readonly LIMIT=$((64 * 1024 * 1024))
die() { echo "prepare_kit.sh: $*" >&2; exit 1; }

PHOTOS_TOOL=$BUILD/tools/gpu_kit_photos
[[ -x $PHOTOS_TOOL ]] || die "build $PHOTOS_TOOL first (cmake --build $BUILD --target gpu_kit_photos)"
command -v protoc >/dev/null || die "protoc is missing (tools/install_deps.sh)"
mkdir -p "$KIT/debs" "$KIT/gen"

# The packages, at the mirror's current versions (security updates move them on). The
# generated code must match protobuf's headers: same upstream version as this protoc.
for p in $PACKAGES; do
  if ! ls "$KIT/debs/${p}_"*.deb >/dev/null 2>&1; then
    (cd "$KIT/debs" && apt-get download "$p" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  fi
  ls "$KIT/debs/${p}_"*.deb >/dev/null 2>&1 || die "could not download $p (apt-get update?)"
done
carried=$(ls "$KIT"/debs/libprotobuf-dev_*.deb | sed -E 's/.*_([0-9.]+)-[^_]*_amd64\.deb/\1/')
here=$(protoc --version | awk '{print $2}')
[[ $carried == "$here" ]] || die "protoc here is $here, the carried protobuf is $carried"

protoc --proto_path=protos --cpp_out="$KIT/gen" protos/dogsearch/v1/model.proto

# At the default model's input size (the kit embeds them with it, as the service would).
side=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["model"]["input"]["width"])' \
  "deploy/models/$(cat deploy/models/DEFAULT)/manifest.json")
if [[ $SYNTHETIC == 1 ]]; then
  "$PHOTOS_TOOL" --synthetic_dogs 40 --size "$side" --out "$KIT/photos.bin"
elif [[ -d $DATA ]]; then
  "$PHOTOS_TOOL" --data "$DATA" --size "$side" --out "$KIT/photos.bin"
else
  die "no data set at $DATA (tools/fetch_dogfacenet.sh), or pass --synthetic"
fi

(cd "$KIT" && find debs gen photos.bin -type f -printf '%s %p\n' | sort -k2) > "$KIT/MANIFEST"
total=$(awk '{s += $1} END {print s}' "$KIT/MANIFEST")
echo "kit at $KIT: $total bytes ($(awk -v t="$total" 'BEGIN {printf "%.1f", t / 1048576}') MiB) of 64 MiB"
[[ $total -le $LIMIT ]] || die "the kit is $total bytes, over the 64 MiB that may travel"
