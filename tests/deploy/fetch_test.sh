#!/usr/bin/env bash
# tools/fetch_dogfacenet.sh against local archives (file:// URLs, no network): a good archive is
# installed and a second run does nothing; a wrong count, a damaged photo or a SHA-256 mismatch
# installs nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
make_zip() {  # $1: zip path, $2: "damage" to truncate one photo
  python3 - "$1" "${2:-}" <<'PY'
import sys, zipfile
path, damage = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(path, "w") as z:
    for dog in range(3):
        for i in range(2):
            data = b"\xff\xd8" + bytes([dog, i]) * 50 + b"\xff\xd9"
            if damage and dog == 1 and i == 1:
                data = data[:-10]
            z.writestr(f"DogFaceNet_224resized/after_4_bis/{dog}/{dog}.{i}.jpg", data)
PY
}
fetch() { DOGFACENET_URL="file://$1" "$root/tools/fetch_dogfacenet.sh" "$2"; }
fail() { echo "FAIL: $*"; exit 1; }

make_zip "$work/good.zip"
DOGFACENET_EXPECT_DOGS=3 DOGFACENET_EXPECT_PHOTOS=6 fetch "$work/good.zip" "$work/a" > "$work/out" 2>&1 \
  || { cat "$work/out"; fail "good archive refused"; }
[ "$(find "$work/a/after_4_bis" -name '*.jpg' | wc -l)" = 6 ] || fail "good archive not installed"
grep -q '3 dogs, 6 photos' "$work/out" || fail "no summary"
fetch "$work/good.zip" "$work/a" | grep -q 'already at' || fail "second run not idempotent"

if fetch "$work/good.zip" "$work/b" > "$work/out" 2>&1; then fail "wrong counts accepted"; fi
grep -q 'expected 1393' "$work/out" || { cat "$work/out"; fail "count mismatch not explained"; }
[ ! -e "$work/b/after_4_bis" ] || fail "installed despite wrong counts"

make_zip "$work/damaged.zip" damage
if DOGFACENET_EXPECT_DOGS=0 DOGFACENET_EXPECT_PHOTOS=0 fetch "$work/damaged.zip" "$work/c" > "$work/out" 2>&1; then
  fail "damaged photo accepted"
fi
grep -q 'not a complete JPEG: .*1.1.jpg' "$work/out" || { cat "$work/out"; fail "damaged photo not named"; }
[ ! -e "$work/c/after_4_bis" ] || fail "installed despite a damaged photo"

if DOGFACENET_SHA256=0000 DOGFACENET_EXPECT_DOGS=0 DOGFACENET_EXPECT_PHOTOS=0 \
   fetch "$work/good.zip" "$work/d" > "$work/out" 2>&1; then fail "SHA-256 mismatch accepted"; fi
grep -q 'SHA-256 mismatch' "$work/out" || fail "SHA-256 mismatch not reported"
echo "fetch_dogfacenet.sh: installs a verified archive, refuses wrong counts, damage, bad hashes"
