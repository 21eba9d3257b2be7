#!/usr/bin/env bash
# Equal-budget comparison of training objectives (issue #15): every recipe trains the same
# number of epochs (same steps, same images: a budget that CPU contention cannot skew) on the
# same identity-disjoint split, and the line printed per recipe has its best validation figures,
# its wall time and images/s (from its metrics.jsonl). docs/TRAINING.md, "Margin losses".
# Usage: tools/train/compare_losses.sh [epochs] [data_dir] [out_dir]
#   ONLY="arcface cosface" tools/train/compare_losses.sh 60     # a subset
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-60}
DATA=${2:-../shared/datasets/dogfacenet/after_4_bis}
OUT=${3:-runs/losses}
TRAIN=build/services/trainer/dogsearch-train
[[ -x $TRAIN ]] || { echo "build first: cmake --build build --target dogsearch-train" >&2; exit 1; }
[[ -d $DATA ]] || { echo "no data set at $DATA (tools/fetch_dogfacenet.sh)" >&2; exit 1; }
BASE="--stage_widths 32,64,128,256 --blocks_per_stage 1 --input_size 96"
declare -a NAMES=(triplet arcface cosface arcface_triplet arcface_lr1e3 subcenter3 triplet_aug
                  arcface_aug arcface112 triplet112 triplet128 triplet_wide)
declare -a ARGS=(
  "--loss triplet --mining semi_hard"
  "--loss arcface --embedding_bn"
  "--loss cosface --embedding_bn"
  "--loss arcface --embedding_bn --triplet_weight 1"
  "--loss arcface --embedding_bn --lr 1e-3"
  "--loss arcface --embedding_bn --subcenters 3"
  "--loss triplet --mining semi_hard --crop_area_min 0.6 --crop_area_max 1.6 --rotation 20 --erase 0.5"
  "--loss arcface --embedding_bn --crop_area_min 0.6 --crop_area_max 1.6 --rotation 20 --erase 0.5"
  "--loss arcface --embedding_bn --input_size 112"
  "--loss triplet --mining semi_hard --input_size 112"
  "--loss triplet --mining semi_hard --input_size 128"
  "--loss triplet --mining semi_hard --stage_widths 48,96,192,384")
ONLY=${ONLY:-}
mkdir -p "$OUT"
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  [[ -n $ONLY && ! " $ONLY " =~ " $name " ]] && continue
  rm -rf "${OUT:?}/$name"
  start=$(date +%s)
  # shellcheck disable=SC2086
  result=$($TRAIN --data "$DATA" --out "$OUT/$name" --epochs "$EPOCHS" --run_name "$name" \
           --progress_every 60 $BASE ${ARGS[$i]} 2>"$OUT/$name.log")
  ips=$(grep '"type":"step"' "$OUT/$name/metrics.jsonl" | sed 's/.*"images_per_s":\([0-9.]*\).*/\1/' \
        | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$name wall_s=$(( $(date +%s) - start )) median_images_per_s=$ips $result"
done
