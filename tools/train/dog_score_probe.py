#!/usr/bin/python3
"""How the gateway's dog score (DogMatch.score, services/gateway/core/vectors.h DogScore) ranks
held-out dogs, against ranking by the best photo alone, on embeddings dumped by dogsearch-eval.

  build/services/trainer/dogsearch-eval --checkpoint C --data D --holdout_fraction 0.1 \\
      [--view loose] --embeddings_out emb.bin
  tools/train/dog_score_probe.py emb.bin C/cohort.bin [--weights 0,0.3,0.5]

Prints, per weight w (0 = best photo only):
- rank-1 with E = 2 and 3 enrolled photos per dog (6 seeded draws; the other photos query),
- full-gallery top-1 and MRR (every other photo in the gallery), where, as in the gateway, a
  dog's centroid is taken over its photos among the 46 nearest candidates (k 5 x 3 photos x 2
  + 16) and the centroid's score offset is the mean of its photos'.
Distances are the served ones (CSLS with the cohort; plain L2 without a cohort argument of
'-'). Needs Debian's python3-numpy. A probe for docs/TRAINING.md, not part of any build.
"""
import argparse

import numpy as np

from dogsearch_files import load_cohort, load_embeddings, score_offsets


def offsets_fn(cohort_path):
    if cohort_path == "-":
        return lambda v: np.zeros(len(v))
    cohort = load_cohort(cohort_path)
    return lambda v: score_offsets(v, cohort)


def served(q, qo, v, vo):
    return np.sqrt(np.clip(2 - 2 * (v @ q) + qo + vo, 0, 4))


def dog_score(x, o, q, qo, idx, dists, w):
    best = dists.min()
    if len(idx) < 2 or w == 0:
        return best
    m = x[idx].sum(0)
    m /= np.linalg.norm(m)
    return (1 - w) * best + w * served(x[q], qo, m[None], o[idx].mean())[0]


def rank1_enrolled(labels, x, o, dist, enrolled, w, seed):
    rng = np.random.default_rng(seed)
    gallery, queries = [], []
    for g in np.unique(labels):
        idx = np.where(labels == g)[0]
        rng.shuffle(idx)
        if len(idx) > enrolled:
            gallery += list(idx[:enrolled])
            queries += list(idx[enrolled:])
    gallery = np.array(gallery)
    hits = 0
    for q in queries:
        scores = {}
        for g in np.unique(labels[gallery]):
            idx = gallery[labels[gallery] == g]
            scores[g] = dog_score(x, o, q, o[q], idx, dist[q, idx], w)
        hits += min(scores, key=scores.get) == labels[q]
    return hits / len(queries)


def full_gallery(labels, x, o, dist, w, candidates=46):
    top1 = mrr = 0.0
    for q in range(len(labels)):
        d = dist[q].copy()
        d[q] = np.inf
        cand = np.argsort(d)[:candidates]
        scores = {}
        for g in np.unique(labels[cand]):
            idx = cand[labels[cand] == g]
            scores[g] = dog_score(x, o, q, o[q], idx, d[idx], w)
        order = sorted(scores, key=scores.get)
        if labels[q] in order:
            rank = order.index(labels[q]) + 1
            top1 += rank == 1
            mrr += 1 / rank
    return top1 / len(labels), mrr / len(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("embeddings")
    ap.add_argument("cohort", help="the checkpoint's cohort.bin, or - for plain L2")
    ap.add_argument("--weights", default="0,0.3,0.5")
    ap.add_argument("--draws", type=int, default=6)
    a = ap.parse_args()
    labels, x = load_embeddings(a.embeddings)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    o = offsets_fn(a.cohort)(x)
    dist = np.sqrt(np.clip(2 - 2 * x @ x.T + o[:, None] + o[None, :], 0, 4))
    print("| w | rank-1, 2 photos (mean of draws) | rank-1, 3 photos | full-gallery top-1 / MRR |")
    print("|---|---|---|---|")
    for w in [float(v) for v in a.weights.split(",")]:
        r = [np.mean([rank1_enrolled(labels, x, o, dist, e, w, s) for s in range(a.draws)])
             for e in (2, 3)]
        t, m = full_gallery(labels, x, o, dist, w)
        print(f"| {w:g} | {r[0]:.4f} | {r[1]:.4f} | {t:.4f} / {m:.4f} |", flush=True)


if __name__ == "__main__":
    main()
