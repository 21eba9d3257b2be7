#!/usr/bin/env bash
# Fetches the public DogFaceNet release (aligned 224x224 dog faces, Mougeot, Li and Jia,
# PRICAI 2019, CC BY 4.0) and unpacks it to <dest>/after_4_bis/<dog_id>/*.jpg, the layout
# dogsearch-train and dogsearch-eval read. Nothing is copied into the repository.
#
#   tools/fetch_dogfacenet.sh [dest]     (default dest: ../shared/datasets/dogfacenet when that
#                                         folder's parent exists, else ./data/dogfacenet)
# Idempotent: does nothing when <dest>/after_4_bis already holds identity folders.
# Verification before anything is moved into place: the archive's SHA-256 when DOGFACENET_SHA256
# is set; every photo must be a complete JPEG (starts with FF D8, ends with FF D9); the number of
# identity folders and photos must match the public release (DOGFACENET_EXPECT_DOGS, default
# 1393; DOGFACENET_EXPECT_PHOTOS, default 8363; set either to 0 to skip that count).
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
sum=$(sha256sum "$TMP/dogfacenet.zip" | cut -d' ' -f1)
echo "sha256: $sum"
if [[ -n ${DOGFACENET_SHA256:-} && $sum != "$DOGFACENET_SHA256" ]]; then
  echo "fetch_dogfacenet: SHA-256 mismatch (expected $DOGFACENET_SHA256); nothing installed" >&2
  exit 1
fi
unzip -q "$TMP/dogfacenet.zip" -d "$TMP/unpacked"
# The archive's top folder has changed between releases: find the folder of identity folders.
SRC=$(find "$TMP/unpacked" -type d -name after_4_bis | head -1)
if [[ -z $SRC ]]; then
  SRC=$(dirname "$(dirname "$(find "$TMP/unpacked" -name '*.jpg' | head -1)")")
fi
[[ -d $SRC ]] || { echo "no photos found in the archive" >&2; exit 1; }
mv "$SRC" "$TMP/after_4_bis"
dogs=$(find "$TMP/after_4_bis" -mindepth 1 -maxdepth 1 -type d | wc -l)
photos=$(find "$TMP/after_4_bis" -name '*.jpg' | wc -l)
bad=0
while IFS= read -r -d '' f; do
  if [[ $(head -c 2 "$f" | od -An -tx1 | tr -d ' \n') != ffd8 || $(tail -c 2 "$f" | od -An -tx1 | tr -d ' \n') != ffd9 ]]; then
    echo "fetch_dogfacenet: not a complete JPEG: ${f#$TMP/}" >&2
    bad=$((bad + 1))
  fi
done < <(find "$TMP/after_4_bis" -name '*.jpg' -print0)
want_dogs=${DOGFACENET_EXPECT_DOGS:-1393}
want_photos=${DOGFACENET_EXPECT_PHOTOS:-8363}
if (( bad > 0 )) || { (( want_dogs > 0 )) && (( dogs != want_dogs )); } \
   || { (( want_photos > 0 )) && (( photos != want_photos )); }; then
  echo "fetch_dogfacenet: verification failed: $dogs dogs (expected $want_dogs), $photos photos" \
       "(expected $want_photos), $bad damaged; nothing installed" >&2
  exit 1
fi
mv "$TMP/after_4_bis" "$DEST/after_4_bis"
echo "DogFaceNet at $DEST/after_4_bis: $(ls "$DEST/after_4_bis" | wc -l) dogs, $(find "$DEST/after_4_bis" -name '*.jpg' | wc -l) photos"
