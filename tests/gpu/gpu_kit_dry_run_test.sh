#!/usr/bin/env bash
# The GPU kit's CPU dry run: what a GPU run does, on Debian's LibTorch, so that the kit cannot
# rot between GPU runs. Prepares a kit (the validation photos, or generated ones where the data
# set is absent), checks it fits in 64 MiB, builds it from the carried packages alone, runs
# every section, and checks the report; then a damaged photo file must be refused.
# Usage: gpu_kit_dry_run_test.sh <build dir>
set -euo pipefail
BUILD=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
T=$BUILD/gpu_kit_test
rm -rf "$T"
mkdir -p "$T"
photos=
if [[ ! -d ../shared/datasets/dogfacenet/after_4_bis ]]; then
  echo "gpu_kit_dry_run: no DogFaceNet photos here: generated photos (accuracy figures meaningless)"
  photos=--synthetic
fi
tools/gpu/prepare_kit.sh --kit "$T/kit" --build "$BUILD" $photos
tools/gpu/run_kit.sh --device=cpu --quick --kit "$T/kit" --work "$T/work" --budget_s 900

python3 - "$T/work/report/gpu_report.json" "$T/kit/MANIFEST" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def check(cond, what):
    if not cond:
        sys.exit(f"gpu_kit_dry_run: {what}\n{json.dumps(r, indent=1)[:4000]}")
check(r["ok"] is True, "the report is not ok")
check(r["device"] == "cpu" and r["libtorch"].startswith("1.13"), "device or LibTorch wrong")
for s in ("parity", "throughput", "hot_reload", "training"):
    check(s in r and r[s]["ok"], f"section {s} missing or failed")
p = r["parity"]["figures"]
check(p["photos"] == r["photos"] and p["max_abs_diff_device_vs_cpu"] <= 1e-4,
      "batch 1 and batch 64 embeddings differ")
check(p["reference"]["verification"] > 0.5, "verification at chance level")
cells = r["throughput"]["figures"]["cells"]
check({c["model"] for c in cells} == {"default model (as served)", "224-px ResNet (ResNet-50 cost)",
                                     "default model, four test-time views"},
      "throughput does not cover the three models")
check(all(c["photos_per_s"] > 0 and c["p99_ms"] >= c["p50_ms"] > 0 for c in cells), "bad cell")
h = r["hot_reload"]["figures"]
check(h["reloads"] == 20 and h["client_threads"] == 16, "not 20 reloads under 16 clients")
check(h["requests"] > 100 and h["failed"] == 0 and h["mismatched_vectors"] == 0,
      "requests failed or vectors did not match their version")
check(len(h["memory_mib"]) == 22, "memory not sampled after every reload")
t = r["training"]["figures"]["recipes"]
check(len(t) == 2 and all(x["images_per_s"] > 0 and x["batch"] == 64 for x in t), "training")
total = sum(int(line.split()[0]) for line in open(sys.argv[2]))
check(total <= 64 << 20, f"kit is {total} bytes")
print(f"gpu_kit_dry_run: report ok ({r['seconds']:.0f} s), kit {total / 1048576:.1f} MiB")
PY

# A damaged photo file: refused, naming the problem, before anything is measured.
cp "$T/kit/photos.bin" "$T/bad.bin"
printf '\xff' | dd of="$T/bad.bin" bs=1 seek=5000 conv=notrunc status=none
set +e
err=$("$T/work/build/gpu_kit" --device=cpu --model_dir="deploy/models/$(cat deploy/models/DEFAULT)" \
      --photos="$T/bad.bin" --scratch_dir="$T/scratch" --report_dir="$T" 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc == 1 && $err == *"checksum mismatch"* ]] ||
  { echo "gpu_kit_dry_run: damaged photos gave rc=$rc: $err"; exit 1; }
[[ ! -e $T/gpu_report.json ]] || { echo "gpu_kit_dry_run: a report was written for bad input"; exit 1; }
echo "gpu_kit_dry_run: damaged photo file refused: $err"
