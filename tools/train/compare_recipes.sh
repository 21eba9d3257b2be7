#!/usr/bin/env bash
# Trains several recipes for the same wall-clock budget on the same identity-disjoint split and
# prints one line per recipe with its final validation metrics (docs/TRAINING.md, "Choosing").
# Usage: tools/train/compare_recipes.sh [budget_seconds] [data_dir] [out_dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUDGET=${1:-300}
DATA=${2:-../shared/datasets/dogfacenet/after_4_bis}
OUT=${3:-runs/compare}
TRAIN=build/services/trainer/dogsearch-train
[[ -x $TRAIN ]] || { echo "build first: cmake --build build --target dogsearch-train" >&2; exit 1; }
[[ -d $DATA ]] || { echo "no data set at $DATA (tools/fetch_dogfacenet.sh)" >&2; exit 1; }
declare -a NAMES=(
  resnet96_semihard resnet96_batchhard seed96_semihard resnet96x2_semihard resnet112x2_semihard)
declare -a ARGS=(
  "--stage_widths 32,64,128,256 --blocks_per_stage 1 --input_size 96 --mining semi_hard"
  "--stage_widths 32,64,128,256 --blocks_per_stage 1 --input_size 96 --mining batch_hard"
  "--architecture seed_inception --input_size 96 --mining semi_hard"
  "--stage_widths 24,48,96,192 --blocks_per_stage 2 --input_size 96 --mining semi_hard"
  "--stage_widths 32,64,128,192 --blocks_per_stage 2 --input_size 112 --mining semi_hard")
ONLY=${ONLY:-}
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  [[ -n $ONLY && ! " $ONLY " =~ " $name " ]] && continue
  rm -rf "$OUT/$name"
  # shellcheck disable=SC2086
  result=$($TRAIN --data "$DATA" --out "$OUT/$name" --time_budget "$BUDGET" --run_name "$name" \
           --progress_every 60 ${ARGS[$i]} 2>"$OUT.$name.log")
  echo "$name $result"
done
