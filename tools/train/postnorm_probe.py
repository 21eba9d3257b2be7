#!/usr/bin/env python3
# Usage: tools/train/postnorm_probe.py ALL.emb HELD_OUT.emb LOOSE.emb   (Debian's python3-numpy)
#   ALL.emb:      dogsearch-eval --data D --ignore_cohort --embeddings_out F (every dog)
#   HELD_OUT.emb: the same with --holdout_fraction 0.1 (the run's held-out dogs)
#   LOOSE.emb:    the same with --holdout_fraction 0.1 --view loose
# Score-normalisation and linear post-processing variants beyond the served one-sided CSLS
# (docs/TRAINING.md, "Other score normalisations and a whitening of the output"): CSLS with other
# k, AS-norm (each side's similarity z-scored by its top-k cohort similarities), within-class
# whitening (WCCN) and LDA fitted on the training dogs. The cohort of each variant is the
# training dogs' unit centroids in its space; served-like one-sided offsets (k 10) where noted.
# Simplified protocol: all pairs for TAR at 1e-3, balanced pairs for verification, 6 seeded
# one-photo galleries for rank-1, leave-one-out top-1.
import sys

import numpy as np
from dogsearch_files import figures, load_embeddings

la, XA = load_embeddings(sys.argv[1])
lh, XH = load_embeddings(sys.argv[2])
ll, XL = load_embeddings(sys.argv[3])
sim = XH @ XA.T  # Held-out rows in the full dump: the same photos, the same vectors.
assert (sim.max(1) > 0.9999).all(), "the dumps are not of the same model and photos"
train = ~np.isin(la, np.unique(la[sim.argmax(1)]))
XT, lt = XA[train].astype(np.float64), la[train]
dogs = np.unique(lt)
mu = np.stack([XT[lt == g].mean(0) for g in dogs])
m = XT.mean(0)
R = XT - mu[np.searchsorted(dogs, lt)]
Sw = R.T @ R / len(XT)


def unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def csls_offsets(Y, C, k=10):
    CC = C @ C.T
    np.fill_diagonal(CC, -9)
    r_mean = np.sort(CC, 1)[:, -k:].mean()
    return np.maximum(np.sort(Y @ C.T, 1)[:, -k:].mean(1) - r_mean, 0)


def report(name, transform=lambda X: X, score=None):
    YT = unit(transform(XT))
    C = unit(np.stack([YT[lt == g].mean(0) for g in dogs]))
    out = []
    for X, labels in [(XH, lh), (XL, ll)]:
        Y = unit(transform(X.astype(np.float64)))
        if score is None:  # Served-like: one-sided CSLS, k 10.
            off = csls_offsets(Y, C)
            S = Y @ Y.T - (off[:, None] + off[None, :]) / 2
        else:
            S = score(Y, C)
        out.append(figures(S, labels))
    print("%-24s aligned: %s | loose: %s" % (name, out[0], out[1]))


def csls_k(k):
    return lambda Y, C: Y @ Y.T - (csls_offsets(Y, C, k)[:, None] + csls_offsets(Y, C, k)) / 2


def as_norm(k):
    def score(Y, C):
        top = np.sort(Y @ C.T, 1)[:, -k:]
        mu_, sd = top.mean(1), top.std(1) + 1e-6
        S = Y @ Y.T
        return 0.5 * ((S - mu_[:, None]) / sd[:, None] + (S - mu_) / sd)
    return score


report("plain", score=lambda Y, C: Y @ Y.T)
report("one-sided CSLS k 10 (served)")
for k in [25, 50, 100]:
    report("one-sided CSLS k %d" % k, score=csls_k(k))
for k in [50, 200, 400]:
    report("AS-norm k %d" % k, score=as_norm(k))
ev, evec = np.linalg.eigh(Sw)
for alpha in [0.03, 0.3, 3]:
    W = evec @ np.diag(1 / np.sqrt(ev + alpha * np.trace(Sw) / len(Sw))) @ evec.T
    report("WCCN alpha %g" % alpha, lambda X, W=W: (X - m) @ W)
    MB = (mu - m) @ W
    vb = np.linalg.eigh(MB.T @ MB)[1]
    report("LDA alpha %g, 64-d" % alpha, lambda X, P=W @ vb[:, -64:]: (X - m) @ P)
