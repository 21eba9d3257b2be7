#!/usr/bin/env bash
# One line per checkpoint with its held-out figures in three views: the aligned photos, the
# "loose crop" view (each photo zoomed out, shifted and tilted: dogsearch-eval --view loose),
# and aligned with test-time flip averaging. docs/TRAINING.md uses it for every recipe.
# Usage: tools/train/eval_views.sh CHECKPOINT_DIR... (env DATA, HOLDOUT=0.1, SEED=0)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/datasets/dogfacenet/after_4_bis}
EVAL=build/services/trainer/dogsearch-eval
[[ -x $EVAL ]] || { echo "build first: cmake --build build --target dogsearch-eval" >&2; exit 1; }
pick() {  # the figures that the tables show, from dogsearch-eval's JSON line
  python3 -c 'import json,sys; m=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(" ".join(f"{k}={m[k]:.4f}" for k in ["verification_accuracy","tar_at_far_1e-3","rank1","rank1_3_enrolled","full_gallery_top1","full_gallery_mrr","dir_at_fpir_0.05"]))'
}
for ckpt in "$@"; do
  common=(--checkpoint "$ckpt" --data "$DATA" --holdout_fraction "${HOLDOUT:-0.1}" --holdout_seed "${SEED:-0}")
  echo "$(basename "$ckpt") aligned: $($EVAL "${common[@]}" 2>/dev/null | pick)"
  echo "$(basename "$ckpt") loose:   $($EVAL "${common[@]}" --view loose 2>/dev/null | pick)"
  echo "$(basename "$ckpt") flip:    $($EVAL "${common[@]}" --flip_average 2>/dev/null | pick)"
done
