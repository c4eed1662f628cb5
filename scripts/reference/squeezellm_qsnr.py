#!/usr/bin/env python3
"""Independent NumPy model of qarch's squeezellm format (quant/src/squeezellm_format.cpp).

Per tensor: the ceil(sparse * n) largest |x| (ties: lower flat index) are kept as FP16; per row,
the remaining values are clustered by a 1-D k-means into 2^bits centroids (quantile init
g[floor((j + 1/2) n / k)], Lloyd iterations until the assignment repeats, at most `iters`),
rounded to FP16; every value takes its nearest FP16 centroid (ties to the lower one).
Written from the file comment, not from the C++ code: it sorts nothing per iteration and
assigns by brute-force distance instead of midpoints and prefix sums.

Usage: squeezellm_qsnr.py X.npy [bits ...]  -> "bits sparse qsnr_db" rows for sparse 0.0045
and 0 (X: a 2-D float32 array, rows = output channels). With --restarts N, also the best of N
random k-means++-style inits per row (what a better k-means search would gain).
"""
import math
import sys

import numpy as np


def kmeans_row(g, k, iters, init=None):
    g = np.sort(g.astype(np.float64))
    n = len(g)
    if n == 0:
        return np.zeros(k)
    c = np.array([g[int((j + 0.5) * n / k)] for j in range(k)]) if init is None else np.sort(init)
    prev = None
    for _ in range(iters):
        # nearest centroid; on a midpoint the lower one (argmin returns the first)
        a = np.argmin(np.abs(g[:, None] - c[None, :]), axis=1)
        if prev is not None and np.array_equal(a, prev):
            break
        for j in range(k):
            sel = g[a == j]
            if len(sel):
                c[j] = sel.mean()
        c = np.sort(c)
        prev = a
    return c


def squeezellm(x, bits, sparse, iters=50, restarts=0, rng=None):
    rows, cols = x.shape
    k = 1 << bits
    flat = x.reshape(-1)
    n = flat.size
    count = min(n, max(0, math.ceil(sparse * n - 1e-9))) if sparse > 0 else 0
    order = np.lexsort((np.arange(n), -np.abs(flat)))  # |x| descending, index ascending
    keep = np.zeros(n, bool)
    keep[order[:count]] = True
    out = np.empty_like(flat)
    for r in range(rows):
        row = flat[r * cols:(r + 1) * cols]
        dense = row[~keep[r * cols:(r + 1) * cols]]
        c = kmeans_row(dense, k, iters)
        if restarts:
            def mse(cc):
                cc = np.sort(cc.astype(np.float16).astype(np.float64))
                return np.min((dense[:, None] - cc[None, :]) ** 2, axis=1).sum()
            best = mse(c)
            for _ in range(restarts):
                cand = kmeans_row(dense, k, iters, init=rng.choice(dense, k, replace=False))
                if mse(cand) < best:
                    best, c = mse(cand), cand
        s = np.sort(c.astype(np.float16).astype(np.float64))
        q = s[np.argmin(np.abs(row.astype(np.float64)[:, None] - s[None, :]), axis=1)]
        out[r * cols:(r + 1) * cols] = q
    out[keep] = flat[keep].astype(np.float16).astype(np.float32)
    return out.reshape(rows, cols)


def qsnr(x, q):
    x = x.astype(np.float64)
    return 10 * math.log10((x * x).sum() / ((x - q) ** 2).sum())


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    restarts = 0
    for a in sys.argv[1:]:
        if a.startswith("--restarts="):
            restarts = int(a.split("=")[1])
    x = np.load(args[0]).astype(np.float32)
    rng = np.random.default_rng(0)
    for bits in [int(b) for b in args[1:]] or [3, 4]:
        for sparse in (0.0045, 0.0):
            q = squeezellm(x, bits, sparse, restarts=restarts, rng=rng)
            print(f"{bits} {sparse} {qsnr(x, q):.2f}")


if __name__ == "__main__":
    main()
