#!/usr/bin/env python3
# Usage: tools/train/csls_rerank.py ALL.emb COHORT   (Debian's python3-numpy)
#   ALL.emb: dogsearch-eval --ignore_cohort --embeddings_out F (every photo, no hold-out)
#   COHORT: a cohort file (dogsearch-eval --write_cohort). docs/TRAINING.md, "Score
#   normalisation": why the gateway re-ranks only the index's nearest candidates.
# How often re-ranking only the N nearest (plain L2) gallery photos by the normalised distance
# picks another top dog than normalising against the whole gallery. One gallery photo per dog.
import sys, numpy as np
from dogsearch_files import load_cohort, load_embeddings, score_offsets
labels, X = load_embeddings(sys.argv[1])
n = len(labels)
cohort = load_cohort(sys.argv[2])
print('cohort: %d rows, k %d, weight %.2f' % (len(cohort[0]), cohort[1], cohort[3]))
off = score_offsets(X, cohort)  # One-sided, as served (common/model/cohort.h).
print('offsets: mean %.3f std %.3f min %.3f max %.3f' % (off.mean(), off.std(), off.min(), off.max()))
rng = np.random.default_rng(0)
dogs = np.unique(labels)
gal = np.array([rng.choice(np.where(labels == g)[0]) for g in dogs])
q = np.setdiff1d(np.arange(n), gal)
l2sq = np.clip(2 - 2 * (X[q] @ X[gal].T), 0, 4)
norm = np.clip(l2sq + off[q][:, None] + off[gal][None, :], 0, 4)
full = labels[gal][norm.argmin(1)]
plain = labels[gal][l2sq.argmin(1)]
truth = labels[q]
print('queries %d gallery %d: plain top-1 %.4f, normalised (whole gallery) %.4f' % (len(q), len(gal), (plain == truth).mean(), (full == truth).mean()))
order = np.argsort(l2sq, axis=1)
for N in (8, 16, 22, 32, 64, 128, 256):
    cand = order[:, :N]
    sub = np.take_along_axis(norm, cand, 1)
    pick = labels[gal][cand[np.arange(len(q)), sub.argmin(1)]]
    print('N=%4d: differs from whole-gallery normalisation for %d queries (%.4f); top-1 %.4f' % (N, (pick != full).sum(), (pick != full).mean(), (pick == truth).mean()))
