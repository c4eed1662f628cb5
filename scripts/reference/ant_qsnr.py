#!/usr/bin/python3
"""Independent NumPy model of ANT's per-tensor quantizer, for the QSNR cross-check of qarch's
"ant" formats (tests/quant/ant_adaptivfloat_test.cpp records its output).

It follows the procedure of the authors' public code (clevercool/ANT-Quantization,
ant_quantization/antquant/quant_modules.py), re-implemented here from its description:
- each type's value list (int_value, flint_value, pot_value) is sorted and scaled so its
  largest value is 10 (convert_tensor); the quantizer scale is alpha / 10;
- every value goes to the nearest grid value, ties to the later (larger) one, as the CUDA kernel
  scans an ascending grid with "<=";
- alpha = max|x| * i / 100 for i in [lo, hi), lowest mean squared error wins (search_mse);
- the type with the lowest error wins (search_adaptive_numeric_type).
Arithmetic is float32 like the authors' tensors, so results may differ from qarch's (double
alpha, integer grids) in the last bits; the QSNRs must agree within 0.1 dB.

Usage: ant_qsnr.py  -> prints "name qsnr_db type" rows for 131,072 N(0,1) samples drawn by
shared_normal(), a generator the C++ test reimplements bit for bit, so both quantize the same
numbers (the QSNR of a max-scaled 4-bit grid moves by tenths of a dB between samples).
"""
import math

import numpy as np


def shared_normal(n, seed):
    """xorshift64* uniforms, Box-Muller (cosine branch), rounded to float32."""
    mask = (1 << 64) - 1
    state = seed
    out = np.empty(n, dtype=np.float32)

    def uniform():
        nonlocal state
        state ^= state >> 12
        state ^= (state << 25) & mask
        state ^= state >> 27
        return (((state * 2685821657736338717) & mask) >> 11) * 2.0 ** -53

    for i in range(n):
        u1 = 1.0 - uniform()
        u2 = uniform()
        out[i] = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return out


def flint(B):
    v = [0.0]
    for e in range(-(B - 1), B - 1):
        m = B + e - 1 if e < 0 else (B - 2 if e == 0 else B - e - 2)
        if m < 0:
            continue
        v += [2.0 ** e * (1 + j * 2.0 ** -m) for j in range(2 ** m)]
    v.append(2.0 ** (B - 1))
    return v


def grid(kind, bits, signed):
    B = bits - 1 if signed else bits
    if kind == "int":
        mags = list(range(2 ** B))
    elif kind == "flint":
        mags = flint(B)
    else:
        mags = [0.0] + [2.0 ** i for i in range(2 ** B - 1)]
    vals = set(mags)
    if signed:
        vals |= {-m for m in mags}
        if kind == "int":
            vals.add(-(2.0 ** B))
    g = np.array(sorted(vals), dtype=np.float32)
    return (g * np.float32(10.0 / g.max())).astype(np.float32)


def quant(x, g):
    # nearest, ties to the larger grid value
    idx = np.searchsorted(g, x, side="left")
    idx = np.clip(idx, 1, len(g) - 1)
    lo, hi = g[idx - 1], g[idx]
    pick_hi = np.abs(x - hi) <= np.abs(x - lo)
    out = np.where(pick_hi, hi, lo)
    out = np.where(x <= g[0], g[0], out)
    return np.where(x >= g[-1], g[-1], out)


def ant(x, bits, kinds, lo, hi):
    signed = bool((x < 0).any())
    xmax = np.float32(np.abs(x).max())
    best = None
    for kind in kinds:
        g = grid(kind, bits, signed)
        for i in range(lo, hi):
            alpha = np.float32(xmax * np.float32(i * 0.01))
            s = np.float32(alpha / np.float32(10.0))
            q = quant((x / s).astype(np.float32), g) * s
            mse = float(np.mean((q.astype(np.float64) - x) ** 2))
            if best is None or mse < best[0]:
                best = (mse, kind, q)
    return best


def qsnr(x, q):
    return 10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum((x - q.astype(np.float64)) ** 2))


if __name__ == "__main__":
    for dist in ("normal",):
        x = shared_normal(131072, 0x9E3779B97F4A7C15)
        for name, bits, kinds, lo in (("ant4", 4, ("int", "flint", "pot"), 75),
                                      ("ant8", 8, ("int", "flint"), 95),
                                      ("ant4-int", 4, ("int",), 75),
                                      ("ant4-flint", 4, ("flint",), 75)):
            mse, kind, q = ant(x, bits, kinds, lo, 150)
            print(f"{dist} {name} {qsnr(x, q):.3f} {kind}")
