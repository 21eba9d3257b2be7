#!/usr/bin/env python3
# Usage (Debian's python3-numpy; from the repository root, after a build):
#   tools/train/view_probe.py dump CHECKPOINT NAME OUT [DATA]   # about 20 s per network here
#   tools/train/view_probe.py report OUT ENSEMBLE A B [EXTRA...]
# Training-free test-time probes of session 22 (docs/TRAINING.md, "Four test-time views"):
# `dump` embeds the held-out dogs (dogsearch-eval --holdout_fraction 0.1 --ignore_cohort,
# aligned and loose views) with the checkpoint's served views turned into three variants: the
# photo alone (p), the photo with its mirror (p + f) and with the mirror of its 70% zoom
# (p + mz). Each view's unit vector is then recovered exactly: for unit p and v, the served
# n = (p + v) / |p + v| gives v = 2 (n . p) n - p. `report` compares, on those vectors, with
# the simplified protocol of dogsearch_files.figures (plain cosine, no cohort):
#   - a gallery embedded with more views than its queries (enrolment is not latency-bound);
#   - query expansion (each query averaged with its top-k photos): full-gallery top-1;
#   - which member of the two-network ensemble ENSEMBLE = A + B should see which views (the
#     ensemble's score is the 0.7 / 0.3 weighted mean of its members' cosines, as its
#     projection keeps);
#   - each EXTRA network as a third member, seeing the zoom (or the photo and the zoom).
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from dogsearch_files import figures, load_embeddings

VARIANTS = {"p": (False, 0.0), "pf": (True, 0.0), "pmz": (True, 0.7)}


def dump(ckpt, name, out, data):
    os.makedirs(out, exist_ok=True)
    for v, (flip, zoom) in VARIANTS.items():
        copy = os.path.join(out, f"ckpt_{name}_{v}")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(ckpt, copy)
        path = os.path.join(copy, "manifest.json")
        m = json.load(open(path))
        m["model"].update(flip_average=flip, test_time_zoom=zoom, test_time_four_views=False)
        json.dump(m, open(path, "w"), indent=1)
        for view in ("aligned", "loose"):
            emb = os.path.join(out, f"{name}_{v}_{view}.emb")
            subprocess.run(["build/services/trainer/dogsearch-eval", "--checkpoint", copy,
                            "--data", data, "--holdout_fraction", "0.1", "--view", view,
                            "--ignore_cohort", "--embeddings_out", emb],
                           check=True, stdout=subprocess.DEVNULL)


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def views(out, name, view):
    """labels, {p, f, mz}: each view's unit vectors."""
    labels, p = load_embeddings(os.path.join(out, f"{name}_p_{view}.emb"))
    got = {"p": p.astype(np.float64)}
    for v, second in (("pf", "f"), ("pmz", "mz")):
        lv, n = load_embeddings(os.path.join(out, f"{name}_{v}_{view}.emb"))
        assert (lv == labels).all(), "dumps of different photos"
        n = n.astype(np.float64)
        got[second] = unit(2 * np.sum(n * got["p"], 1, keepdims=True) * n - got["p"])
    return labels, got


def mean_of(v, keys):
    return unit(sum(v[k] for k in keys))


def concat(parts):  # [(weight, unit vectors)]: cosine = the weighted mean of the cosines.
    total = sum(w for w, _ in parts)
    return np.concatenate([np.sqrt(w / total) * x for w, x in parts], 1)


def report(out, ensemble, a, b, extras):
    for view in ("aligned", "loose"):
        labels, e = views(out, ensemble, view)
        va, vb = views(out, a, view)[1], views(out, b, view)[1]
        served = mean_of(e, ["p", "mz"])
        rows = {"served: photo + mirror of zoom": (served, served),
                "gallery photo + mirror + zoom's mirror": (served, mean_of(e, ["p", "f", "mz"])),
                "both sides photo + mirror + zoom's mirror": (mean_of(e, ["p", "f", "mz"]),) * 2}
        s = served @ served.T
        np.fill_diagonal(s, -9)
        ranked = np.argsort(-s, 1)
        for k in (1, 2, 3):
            top = ranked[:, :k]
            w = np.take_along_axis(s, top, 1).clip(0)
            # Only its top-1 is fair: the expansion of the other figures' queries would draw on
            # photos outside their gallery (a pair's other photo, the unenrolled photos).
            rows[f"query expansion, top {k} (top-1 only)"] = (
                unit(served + np.einsum("nk,nkd->nd", w, served[top])), served)
        for name, (ka, kb) in {"A p,mz | B p,mz": (["p", "mz"], ["p", "mz"]),
                               "A p,f,mz | B p": (["p", "f", "mz"], ["p"]),
                               "A p,f,mz | B mz": (["p", "f", "mz"], ["mz"]),
                               "A p,mz | B mz": (["p", "mz"], ["mz"]),
                               "A p,mz | B p": (["p", "mz"], ["p"])}.items():
            x = concat([(0.7, mean_of(va, ka)), (0.3, mean_of(vb, kb))])
            rows[f"members: {name}"] = (x, x)
        for extra in extras:
            vx = views(out, extra, view)[1]
            for keys in (["mz"], ["p", "mz"]):
                x = concat([(0.49, mean_of(va, ["p", "mz"])), (0.21, mean_of(vb, ["p", "mz"])),
                            (0.3, mean_of(vx, keys))])
                rows[f"+ {extra} ({','.join(keys)}), w 0.3"] = (x, x)
            x = concat([(0.7, mean_of(vx, ["p", "mz"])), (0.3, mean_of(vb, ["p", "mz"]))])
            rows[f"{extra} instead of A"] = (x, x)
        for name, (q, g) in rows.items():
            f = figures(q @ g.T, labels)
            print(f"{view:8s} {name:44s} {f[f.index('top1'):] if 'top-1 only' in name else f}")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "dump":
        dump(sys.argv[2], sys.argv[3], sys.argv[4],
             sys.argv[5] if len(sys.argv) > 5 else "../shared/datasets/dogfacenet/after_4_bis")
    elif len(sys.argv) >= 6 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    else:
        sys.exit(open(__file__).read().split("import json")[0])
