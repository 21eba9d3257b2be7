#!/usr/bin/env bash
# Held-out figures of checkpoints as served (their own flip, zoom, precision and cohort), over
# several gallery draws: the protocol of docs/TRAINING.md's "as served" tables (seed 0 and the
# mean of seeds 0-5; pairs, TAR and full-gallery figures do not depend on the draw). One table
# per view (aligned, loose), one column per checkpoint; the raw JSON lines go to $OUT.
# Usage: tools/train/eval_served.sh CHECKPOINT_DIR... (env DATA, HOLDOUT=0.1, SEEDS="0 1 2 3 4 5",
# VIEWS="aligned loose", OUT=/tmp/eval_served.jsonl)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/datasets/dogfacenet/after_4_bis}
EVAL=build/services/trainer/dogsearch-eval
OUT=${OUT:-/tmp/eval_served.jsonl}
[[ -x $EVAL ]] || { echo "build first: cmake --build build --target dogsearch-eval" >&2; exit 1; }
[[ $# -ge 1 ]] || { echo "usage: $0 CHECKPOINT_DIR..." >&2; exit 2; }
: >"$OUT"
for view in ${VIEWS:-aligned loose}; do
  for seed in ${SEEDS:-0 1 2 3 4 5}; do
    for ckpt in "$@"; do
      line=$($EVAL --checkpoint "$ckpt" --data "$DATA" --holdout_fraction "${HOLDOUT:-0.1}" \
        --view "$view" --seed "$seed" 2>/tmp/eval_served.err | tail -1) || true
      [[ $line == "{"* ]] || { echo "dogsearch-eval failed on $ckpt ($view, seed $seed):" >&2
        tail -3 /tmp/eval_served.err >&2; exit 1; }
      python3 -c 'import json,sys; m=json.loads(sys.argv[1]); m["seed"]=int(sys.argv[2]); print(json.dumps(m))' \
        "$line" "$seed" >>"$OUT"
    done
  done
done
python3 - "$OUT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = list(dict.fromkeys(r["checkpoint"] for r in rows))
first_seed = min(r["seed"] for r in rows)
keys = ["verification_accuracy", "tar_at_far_1e-3", "rank1", "rank1_3_enrolled",
        "searched_rank1_3_enrolled", "full_gallery_top1", "searched_full_gallery_top1",
        "full_gallery_mrr", "dir_at_fpir_0.01", "dir_at_fpir_0.05", "dir_at_fpir_0.1",
        "served_threshold_fpir_0.05", "served_threshold_dir_0.05", "confidence_ece"]
for view in dict.fromkeys(r["view"] for r in rows):
    print(f"\n| {view}: seed {first_seed} / mean of "
          f"{len({r['seed'] for r in rows})} | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for k in keys:
        cells = []
        for n in names:
            vals = [r[k] for r in rows if r["view"] == view and r["checkpoint"] == n]
            first = [r[k] for r in rows if r["view"] == view and r["checkpoint"] == n
                     and r["seed"] == first_seed][0]
            cells.append(f"{first:.3f} / {sum(vals) / len(vals):.3f}")
        print(f"| {k} | " + " | ".join(cells) + " |")
EOF
