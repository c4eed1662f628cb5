#!/usr/bin/python3
"""Independent NumPy model of qarch's KV-cache formats (quant/src/gear_format.cpp,
rotatekv_format.cpp, ksort_format.cpp), for the QSNR cross-check in docs/FORMATS.md.

Re-implemented from the formats' header comments (not from their code):
- rotatekv4: randomized Walsh-Hadamard rotation of every row (signs: top bit of SplitMix64
  seed 0), int4 asymmetric per row (min-max, zero point), rotate back, round to FP16;
- ksort_mxfp4 / ksort_bfp: channels sorted by descending L2 norm, then MXFP4 (E2M1, E8M0 scale
  per 32) or BFP p=4 (integer mantissas in [-7, 7] per 32) along the sorted channels;
- gear4:rank=0: per row the smallest and the largest value kept in FP16, the rest (zeros in their
  place) int4 asymmetric with an FP16 step and offset, round to FP16. The rank-4 part is not
  modelled (its power iteration is seeded differently here).
Everything in float64 except where the formats round (FP16 / FP32 steps), so results may differ
from qarch's in the last bits; the QSNRs must agree within 0.1 dB.

Usage: kv_qsnr.py -> "name qsnr_db" rows for numpy.random.default_rng(0).standard_normal(131072)
as float32 laid out [1024, 128] (rows = tokens, head_dim 128), the formats.md protocol.
"""
import numpy as np

M64 = (1 << 64) - 1


def splitmix64(seed, j):
    z = (seed + (j + 1) * 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def hadamard(n):
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h / np.sqrt(n)


def qsnr(x, q):
    x = x.astype(np.float64)
    return 10 * np.log10(np.sum(x * x) / np.sum((x - q) ** 2))


def int_asym_rows(y, bits):
    qmax = 2**bits - 1
    lo = np.minimum(y.min(axis=1, keepdims=True), 0)
    hi = np.maximum(y.max(axis=1, keepdims=True), 0)
    s = ((hi - lo) / qmax).astype(np.float32).astype(np.float64)
    s[s == 0] = 1
    z = np.clip(np.round(-lo / s), 0, qmax)
    q = np.round(np.clip((y / s).astype(np.float32), -z, qmax - z))
    return q * s


def rotatekv(x, bits=4):
    n = x.shape[1]
    d = np.array([-1.0 if splitmix64(0, j) >> 63 else 1.0 for j in range(n)])
    h = hadamard(n)
    y = (x * d) @ h
    return ((int_asym_rows(y, bits) @ h) * d).astype(np.float16).astype(np.float64)


E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6])


def rne_to_grid(v, grid):
    a = np.abs(v)
    i = np.clip(np.searchsorted(grid, a), 1, len(grid) - 1)
    lo, hi = grid[i - 1], grid[i]
    pick_hi = (a - lo > hi - a) | ((a - lo == hi - a) & (i % 2 == 0))
    r = np.where(a >= grid[-1], grid[-1], np.where(pick_hi, hi, lo))
    return np.sign(v) * r


def blocks(x, block, fn):
    out = np.empty_like(x, dtype=np.float64)
    for c0 in range(0, x.shape[1], block):
        out[:, c0 : c0 + block] = fn(x[:, c0 : c0 + block].astype(np.float64))
    return out


def mxfp4_block(b):
    amax = np.abs(b).max(axis=1, keepdims=True)
    e = np.floor(np.log2(np.where(amax > 0, amax, 1))) - 2
    scale = 2.0**e
    return rne_to_grid(b / scale, E2M1) * scale


def bfp4_block(b):
    amax = np.abs(b).max(axis=1, keepdims=True)
    e = np.floor(np.log2(np.where(amax > 0, amax, 1)))
    unit = 2.0 ** (e - 2)
    return np.clip(np.round(b / unit), -7, 7) * unit


def ksort(x, fn):
    perm = np.argsort(-np.sqrt((x.astype(np.float64) ** 2).sum(axis=0)), kind="stable")
    q = blocks(x[:, perm], 32, fn)
    out = np.empty_like(q)
    out[:, perm] = q
    return out


def gear_rank0(x, bits=4):
    qmax = 2**bits - 1
    xs = x.astype(np.float64).copy()
    sp = np.zeros_like(xs)
    rows = np.arange(x.shape[0])
    for idx in (np.argmin(x, axis=1), np.argmax(x, axis=1)):
        sp[rows, idx] = x[rows, idx].astype(np.float16)
        xs[rows, idx] = 0
    lo, hi = xs.min(axis=1, keepdims=True), xs.max(axis=1, keepdims=True)
    s = ((hi - lo) / qmax).astype(np.float16).astype(np.float64)
    m = lo.astype(np.float16).astype(np.float64)
    q = np.clip(np.round(((xs - m).astype(np.float32) / s).astype(np.float32)), 0, qmax)
    d = (q * s).astype(np.float32).astype(np.float64) + m
    return (d + sp).astype(np.float16).astype(np.float64)


def main():
    x = np.random.default_rng(0).standard_normal(131072).astype(np.float32).reshape(1024, 128)
    print("rotatekv4 %.2f" % qsnr(x, rotatekv(x)))
    print("ksort_mxfp4 %.2f" % qsnr(x, ksort(x, mxfp4_block)))
    print("ksort_bfp %.2f" % qsnr(x, ksort(x, bfp4_block)))
    print("gear4:rank=0 %.2f" % qsnr(x, gear_rank0(x)))
    print("int4:per=row:sym=false %.2f" % qsnr(x, int_asym_rows(x.astype(np.float64), 4)))


if __name__ == "__main__":
    main()
