"""Readers of dogsearch's binary files for the numpy probes in tools/train/ (Debian's
python3-numpy): dogsearch-eval --embeddings_out (DSEMB1) and cohort.bin (DSCOH1,
docs/CHECKPOINT_FORMAT.md; common/model/cohort.h is the served definition)."""
import struct

import numpy as np


def load_embeddings(path):
    """(labels int32 [n], vectors float32 [n, d]) as stored."""
    b = open(path, "rb").read()
    assert b[:8] == b"DSEMB1\0\0", f"{path}: not a dogsearch-eval --embeddings_out file"
    n, d = struct.unpack("<QQ", b[8:24])
    labels = np.frombuffer(b, np.int32, n, 24).copy()
    return labels, np.frombuffer(b, np.float32, n * d, 24 + 4 * n).reshape(n, d)


def load_cohort(path):
    """(rows float32 [m, d], k, mean hubness r, weight w)."""
    c = open(path, "rb").read()
    assert c[:8] == b"DSCOH1\0\0", f"{path}: not a cohort.bin"
    rows, d, k, r, w = struct.unpack("<QQIff", c[8:36])
    return np.frombuffer(c, np.float32, rows * d, 36).reshape(rows, d), k, r, w


def hubness(x, rows, k):
    """Each vector's mean cosine similarity to its k nearest cohort rows."""
    return np.sort(x @ rows.T, axis=1)[:, -k:].mean(axis=1)


def score_offsets(x, cohort):
    """The served offsets, w max(0, h(v) - r) (one-sided: only hubs move)."""
    rows, k, r, w = cohort
    return w * np.maximum(hubness(x, rows, k) - r, 0)


def figures(S, labels):
    """The probes' simplified protocol on S, a similarity (higher = same dog) of every row
    (query) to every column (the same photos, perhaps embedded otherwise): balanced-pair
    verification, TAR at FAR 1e-3 over all pairs, rank-1 over 6 seeded one-photo galleries,
    leave-one-out top-1."""
    n = len(labels)
    same = labels[:, None] == labels[None, :]
    iu = np.triu_indices(n, 1)
    gen, imp = S[iu][same[iu]], S[iu][~same[iu]]
    tar = (gen >= np.quantile(imp, 1 - 1e-3)).mean()
    negs = np.random.default_rng(0).choice(imp, len(gen), replace=False)
    lab = np.concatenate([np.ones(len(gen)), np.zeros(len(negs))])
    lab = lab[np.argsort(-np.concatenate([gen, negs]))]
    acc = (np.cumsum(lab) + len(negs) - np.cumsum(1 - lab)).max() / len(lab)
    Rr = S.copy()
    np.fill_diagonal(Rr, -9)
    has2 = np.array([(labels == x).sum() >= 2 for x in labels])
    top1 = (labels[Rr.argmax(1)] == labels)[has2].mean()
    r1 = []
    for s in range(6):
        rng = np.random.default_rng(s)
        gal = np.array([rng.choice(np.where(labels == g)[0]) for g in np.unique(labels)])
        q = np.setdiff1d(np.arange(n), gal)
        r1.append((labels[gal[Rr[np.ix_(q, gal)].argmax(1)]] == labels[q]).mean())
    return "ver %.3f tar %.3f r1 %.3f top1 %.3f" % (acc, tar, np.mean(r1), top1)
