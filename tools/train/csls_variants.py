#!/usr/bin/env python3
# Usage: tools/train/csls_variants.py HELD_OUT.emb COHORT   (Debian's python3-numpy)
#   HELD_OUT.emb: dogsearch-eval --holdout_fraction 0.1 --ignore_cohort --embeddings_out F
#   COHORT: a cohort file (dogsearch-eval --write_cohort); its k and mean are used, its weight
#   is replaced by each alpha below. docs/TRAINING.md, "Score normalisation".
# Score-normalisation variants on dumped held-out embeddings (DSEMB1) with a cohort (DSCOH1):
# plain; CSLS with offsets scaled by alpha (rank and decide on it); hybrid (rank plain, decide
# normalised). Simplified protocol (random single/3-photo galleries, leave-one-out top-1, all
# pairs for TAR, half the dogs enrolled for DIR), averaged over 5 seeds.
import sys, numpy as np
from dogsearch_files import hubness, load_cohort, load_embeddings
labels, X = load_embeddings(sys.argv[1]); C, k, rm, _ = load_cohort(sys.argv[2])
raw = hubness(X, C, k) - rm
off = raw
L2 = np.clip(2 - 2 * X @ X.T, 0, 4)
n = len(labels); same = labels[:, None] == labels[None, :]; iu = np.triu_indices(n, 1)
def figures(alpha, hybrid):
    N = np.clip(L2 + alpha * (off[:, None] + off[None, :]), 0, 4)
    R = L2 if hybrid else N   # ranking distance
    D = N                     # decision distance
    gen, imp = D[iu][same[iu]], D[iu][~same[iu]]
    t = np.quantile(imp, 1e-3); tar = (gen <= t).mean()
    RR = R.copy(); np.fill_diagonal(RR, 9)
    has2 = np.array([(labels == l).sum() >= 2 for l in labels])
    top1 = (labels[RR.argmin(1)] == labels)[has2].mean()
    res = {'tar': tar, 'top1': top1, 'r1': [], 'r13': [], 'dir': []}
    dogs = np.unique(labels)
    for s in range(5):
        rng = np.random.default_rng(s)
        gal = np.array([rng.choice(np.where(labels == g)[0]) for g in dogs])
        q = np.setdiff1d(np.arange(n), gal)
        pick = gal[R[np.ix_(q, gal)].argmin(1)]
        res['r1'].append((labels[pick] == labels[q]).mean())
        g3 = np.concatenate([rng.choice(np.where(labels == g)[0], 3, replace=False) for g in dogs if (labels == g).sum() >= 4])
        q3 = np.array([i for i in range(n) if i not in set(g3) and (labels == labels[i]).sum() >= 4])
        res['r13'].append((labels[g3[R[np.ix_(q3, g3)].argmin(1)]] == labels[q3]).mean())
        enrolled = rng.permutation(dogs)[:len(dogs)//2]; enr = np.isin(labels, enrolled)
        ge = gal[np.isin(labels[gal], enrolled)]
        qe = np.setdiff1d(np.where(enr)[0], ge); qn = np.where(~enr)[0]
        pe = ge[R[np.ix_(qe, ge)].argmin(1)]; de = D[qe, pe]
        dn = D[qn, ge[R[np.ix_(qn, ge)].argmin(1)]]
        th = np.quantile(dn, 0.05)
        res['dir'].append(((labels[pe] == labels[qe]) & (de <= th)).mean())
    return {kk: (np.mean(v) if isinstance(v, list) else v) for kk, v in res.items()}
print('offsets std %.3f' % off.std())
# (name, alpha, hybrid: rank plain and decide normalised, one-sided: max(0, offset) as served)
for name, a, h, one in [('plain', 0, False, False), ('csls 1.0', 1, False, False),
                        ('csls 0.5', 0.5, False, False), ('csls 0.25', 0.25, False, False),
                        ('hybrid 1.0', 1, True, False), ('hybrid 0.5', 0.5, True, False),
                        ('one-sided 1.0', 1, False, True), ('one-sided 0.5', 0.5, False, True)]:
    off = np.maximum(raw, 0) if one else raw
    f = figures(a, h)
    print('%-11s TAR %.3f top1 %.3f rank1 %.3f r1@3 %.3f DIR5 %.3f' % (name, f['tar'], f['top1'], f['r1'], f['r13'], f['dir']))
