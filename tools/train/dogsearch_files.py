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
