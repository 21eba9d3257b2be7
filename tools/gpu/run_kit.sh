#!/usr/bin/env bash
# Runs the GPU kit (docs/GPU.md): unpacks the carried packages, builds tools/gpu against the
# LibTorch at hand, runs the measurements and leaves <out>/gpu_report.{json,md}.
# Usage: tools/gpu/run_kit.sh [--device=cuda|cpu] [--kit DIR] [--work DIR] [--out DIR]
#                             [--budget_s SECONDS] [--quick]
#   cuda (default): PyTorch's LibTorch, found through python3 (override: PYTHON=...).
#   cpu: Debian's LibTorch (the dry run the README's test command runs; --quick shortens it).
# Exit status: 0 every section ran and held, 2 a section failed (the report says which),
# 1 the kit could not be built or run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEVICE=cuda
KIT=gpu_kit
WORK=build-gpu-kit
OUT=
BUDGET=420
QUICK=
while [[ $# -gt 0 ]]; do
  case $1 in
    --device=*) DEVICE=${1#--device=}; shift ;;
    --kit) KIT=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --budget_s) BUDGET=$2; shift 2 ;;
    --quick) QUICK=--quick; shift ;;
    *) echo "run_kit.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
OUT=${OUT:-$WORK/report}
die() { echo "run_kit.sh: $*" >&2; exit 1; }
log() { echo "run_kit.sh [$(( $(date +%s) - START ))s]: $*" >&2; }
START=$(date +%s)
[[ -f $KIT/MANIFEST && -f $KIT/photos.bin ]] || die "no prepared kit at $KIT (tools/gpu/prepare_kit.sh)"
for tool in cmake ninja ar tar c++; do command -v $tool >/dev/null || die "$tool is missing"; done
mkdir -p "$WORK" "$OUT"
WORK=$(cd "$WORK" && pwd)
OUT=$(cd "$OUT" && pwd)
KIT=$(cd "$KIT" && pwd)
# What a failed build on a machine seen once needs to be diagnosed: the toolchain, and the logs
# copied next to the report (they come back with it).
{
  echo "cmake: $(cmake --version | head -1)"
  echo "c++: $(c++ --version | head -1)"
  echo "glibc: $(ldd --version 2>&1 | head -1)"
  echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
} >"$OUT/toolchain.txt"
trap 'cp -f "$WORK"/configure.log "$WORK"/build.log "$OUT"/ 2>/dev/null || true' EXIT

# 1. The carried packages into a private prefix (ar + tar: no dpkg needed, nothing under /).
PREFIX=$WORK/prefix
rm -rf "$PREFIX" && mkdir -p "$PREFIX"
for deb in "$KIT"/debs/*.deb; do
  member=$(ar t "$deb" | grep '^data\.tar') || die "$deb has no data member"
  case $member in
    *.xz) z=-J ;; *.gz) z=-z ;; *.zst) z=--zstd ;; *) z= ;;
  esac
  ar p "$deb" "$member" | tar -x $z -C "$PREFIX" || die "cannot unpack $deb ($member)"
done
log "unpacked $(ls "$KIT"/debs/*.deb | wc -l) packages into $PREFIX"

# 2. The LibTorch: its headers, libraries and C++ ABI.
if [[ $DEVICE == cpu ]]; then
  TORCH_INC=/usr/include/torch/csrc/api/include
  TORCH_LIBDIR=/usr/lib/x86_64-linux-gnu
  ABI=1
  [[ -f $TORCH_INC/torch/torch.h ]] || die "Debian's LibTorch is missing (libtorch-dev)"
  TORCH_LIBS="$TORCH_LIBDIR/libtorch.so;$TORCH_LIBDIR/libtorch_cpu.so;$TORCH_LIBDIR/libc10.so"
  CUDA=OFF
  CXX_STANDARD=${KIT_CXX_STANDARD:-17}
else
  PY=${PYTHON:-python3}
  read -r TORCH_DIR ABI TORCH_CUDA STD < <("$PY" -c 'import os, torch
v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI), torch.version.cuda,
      20 if v >= (2, 12) else 17)') || die "$PY cannot import torch"
  CXX_STANDARD=${KIT_CXX_STANDARD:-$STD}
  [[ $ABI == 1 ]] || die "this PyTorch uses the old C++ ABI; Debian's archives need the new one"
  TORCH_INC="$TORCH_DIR/include;$TORCH_DIR/include/torch/csrc/api/include"
  TORCH_LIBDIR=$TORCH_DIR/lib
  TORCH_LIBS="$TORCH_LIBDIR/libtorch.so;$TORCH_LIBDIR/libtorch_cpu.so;$TORCH_LIBDIR/libc10.so"
  CUDA=OFF
  if [[ -f $TORCH_LIBDIR/libtorch_cuda.so ]]; then
    # Linked even though no symbol of it is used: it registers the CUDA kernels.
    TORCH_LIBS="$TORCH_LIBS;-Wl,--no-as-needed;$TORCH_LIBDIR/libtorch_cuda.so;$TORCH_LIBDIR/libc10_cuda.so;-Wl,--as-needed"
    CUDA=ON
  fi
  log "PyTorch at $TORCH_DIR (CUDA ${TORCH_CUDA}, C++${CXX_STANDARD})"
fi

# 3. Build.
cmake -S tools/gpu -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DKIT_PREFIX="$PREFIX" -DKIT_GEN="$KIT/gen" -DKIT_TORCH_INCLUDE_DIRS="$TORCH_INC" \
  -DKIT_TORCH_LIBRARIES="$TORCH_LIBS" -DKIT_CXX11_ABI="$ABI" -DKIT_CUDA=$CUDA \
  -DKIT_CXX_STANDARD="$CXX_STANDARD" \
  -DCMAKE_BUILD_RPATH="$TORCH_LIBDIR" >"$WORK/configure.log" 2>&1 ||
  { tail -30 "$WORK/configure.log" >&2; die "configure failed ($WORK/configure.log)"; }
cmake --build "$WORK/build" -j "$(nproc)" >"$WORK/build.log" 2>&1 ||
  { grep -m 20 -B2 -A8 'error' "$WORK/build.log" >&2 || tail -40 "$WORK/build.log" >&2; die "build failed ($WORK/build.log)"; }
# Every Abseil, protobuf, OpenSSL and zlib header must have come from the carried packages, or
# the GPU machine (which has none of Debian's) would fail where this machine passed.
leaked=$(ninja -C "$WORK/build" -t deps | grep -E '^\s+/usr/include/(absl|google|openssl|zlib\.h|zconf\.h)' | sort -u || true)
[[ -z $leaked ]] || die "headers taken from this machine instead of the kit: $leaked"
log "built $WORK/build/gpu_kit"

# 4. Measure.
MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
MACHINE="$MACHINE, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
if [[ $DEVICE != cpu ]] && command -v nvidia-smi >/dev/null; then
  MACHINE="$MACHINE; $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
fi
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
MODEL=deploy/models/$(cat deploy/models/DEFAULT)
left=$(( BUDGET - ($(date +%s) - START) ))
[[ $left -gt 30 ]] || die "no time left to measure (budget ${BUDGET}s)"
status=0
timeout --kill-after=10 "$((left + 60))" "$WORK/build/gpu_kit" --device="$DEVICE" \
  --model_dir="$MODEL" --photos="$KIT/photos.bin" --scratch_dir="$WORK/scratch" \
  --report_dir="$OUT" --budget_s="$left" --machine="$MACHINE" --commit="$COMMIT" $QUICK \
  || status=$?
log "finished with status $status; report: $OUT/gpu_report.md"
exit $status
