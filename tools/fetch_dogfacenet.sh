#!/usr/bin/env bash
# Fetches the public DogFaceNet release (aligned 224x224 dog faces, Mougeot, Li and Jia,
# PRICAI 2019, CC BY 4.0) and unpacks it to <dest>/after_4_bis/<dog_id>/*.jpg, the layout
# dogsearch-train and dogsearch-eval read. Nothing is copied into the repository.
#
#   tools/fetch_dogfacenet.sh [dest]     (default dest: ../shared/datasets/dogfacenet when that
#                                         folder's parent exists, else ./data/dogfacenet)
# Idempotent: does nothing when <dest>/after_4_bis already holds identity folders.
set -euo pipefail
URL=${DOGFACENET_URL:-https://github.com/GuillaumeMougeot/DogFaceNet/releases/download/dataset/DogFaceNet_Dataset_224_1.zip}
cd "$(dirname "$0")/.."
if [[ $# -ge 1 ]]; then DEST=$1
elif [[ -d ../shared/datasets ]]; then DEST=../shared/datasets/dogfacenet
else DEST=data/dogfacenet; fi
if [[ -d $DEST/after_4_bis ]] && [[ -n $(ls -A "$DEST/after_4_bis" 2>/dev/null) ]]; then
  echo "DogFaceNet already at $DEST/after_4_bis ($(ls "$DEST/after_4_bis" | wc -l) dogs)"
  exit 0
fi
command -v unzip >/dev/null || { echo "needs unzip: sudo apt-get install -y unzip" >&2; exit 1; }
mkdir -p "$DEST"
TMP=$(mktemp -d "$DEST/.fetch-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
echo "downloading $URL"
if command -v curl >/dev/null; then curl -fL --retry 3 -o "$TMP/dogfacenet.zip" "$URL"
else wget -O "$TMP/dogfacenet.zip" "$URL"; fi
echo "sha256: $(sha256sum "$TMP/dogfacenet.zip" | cut -d' ' -f1)"
unzip -q "$TMP/dogfacenet.zip" -d "$TMP/unpacked"
# The archive's top folder has changed between releases: find the folder of identity folders.
SRC=$(find "$TMP/unpacked" -type d -name after_4_bis | head -1)
if [[ -z $SRC ]]; then
  SRC=$(dirname "$(dirname "$(find "$TMP/unpacked" -name '*.jpg' | head -1)")")
fi
[[ -d $SRC ]] || { echo "no photos found in the archive" >&2; exit 1; }
mv "$SRC" "$TMP/after_4_bis"
mv "$TMP/after_4_bis" "$DEST/after_4_bis"
echo "DogFaceNet at $DEST/after_4_bis: $(ls "$DEST/after_4_bis" | wc -l) dogs, $(find "$DEST/after_4_bis" -name '*.jpg' | wc -l) photos"
