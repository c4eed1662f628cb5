#!/usr/bin/env python3
"""Randomized differential check of `qarch scalesim` against SCALE-Sim v2.

Draws random experiments (array 1-40 x 1-40, dataflow, SRAM sizes, CALC or USER bandwidth,
1-3 random GEMM or convolution layers with strides, partial windows and depthwise "DP" layers),
runs both tools and compares the three report files byte for byte. Cases where SCALE-Sim
fails must fail in qarch too (with a named error). Cases that differ are kept in WORKDIR.

usage: fuzz_compare.py --seed S --cases N [--qarch build/bin/qarch]
                       [--scalesim ../shared/third_party/scale-sim-v2] [--workdir DIR]
Run SCALE-Sim with Debian's python3 (python3-numpy, python3-tqdm, python3-absl).
"""
import argparse
import filecmp
import os
import random
import shutil
import subprocess
import sys
import tempfile

REPORTS = ["COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"]


def random_case(rng):
    df = rng.choice(["os", "ws", "is"])
    rows = rng.choice([1, 2, 3, rng.randint(1, 40)])
    cols = rng.choice([1, 2, rng.randint(1, 40)])
    user = rng.random() < 0.5
    bw = rng.choice([1, 2, 3, rng.randint(1, 40)])
    kb = [rng.choice([1, 1, 2, 3, 5, 8]) for _ in range(3)]
    cfg = (f"[general]\nrun_name = r\n\n[architecture_presets]\nArrayHeight:    {rows}\n"
           f"ArrayWidth:     {cols}\nIfmapSramSzkB:    {kb[0]}\nFilterSramSzkB:   {kb[1]}\n"
           f"OfmapSramSzkB:    {kb[2]}\nIfmapOffset:    0\nFilterOffset:   10000000\n"
           f"OfmapOffset:    20000000\nDataflow : {df}\nBandwidth : {bw}\nMemoryBanks: 1\n\n"
           f"[run_presets]\nInterfaceBandwidth: {'USER' if user else 'CALC'}\n")
    gemm = rng.random() < 0.5
    # SCALE-Sim concatenates its per-fold matrices one by one (quadratic in the folds): keep
    # the fold count of small arrays modest.
    big = 150 if min(rows, cols) >= 8 else 40
    if gemm:
        lines = ["Layer, M, N, K,"]
        for i in range(rng.randint(1, 3)):
            lines.append(f"g{i}, {rng.randint(1, big)}, {rng.randint(1, big)}, "
                         f"{rng.randint(1, big)},")
    else:
        lines = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                 "Num Filter, Strides,"]
        for i in range(rng.randint(1, 3)):
            fh, fw = rng.randint(1, 5), rng.randint(1, 5)
            name = ("Conv_DP" if rng.random() < 0.25 else "conv") + str(i)
            line = (f"{name}, {rng.randint(fh, 16)}, {rng.randint(fw, 16)}, {fh}, {fw}, "
                    f"{rng.randint(1, 6)}, {rng.randint(1, 20)}, {rng.randint(1, 3)},")
            if rng.random() < 0.3:
                line += f" {rng.randint(1, 3)},"
            lines.append(line)
    return cfg, "\n".join(lines) + "\n", "gemm" if gemm else "conv"


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--qarch", default=os.path.join(root, "build", "bin", "qarch"))
    ap.add_argument("--scalesim", default=os.path.join(os.path.dirname(root), "shared",
                                                       "third_party", "scale-sim-v2"))
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = a.workdir or tempfile.mkdtemp(prefix="qarch_scalesim_fuzz_")
    counts = {"same": 0, "differ": 0, "both fail": 0, "only SCALE-Sim fails": 0,
              "only qarch fails": 0}
    env = dict(os.environ, PYTHONPATH=a.scalesim)
    for i in range(a.cases):
        d = os.path.join(work, f"case{a.seed}_{i}")
        os.makedirs(d, exist_ok=True)
        cfg, topo, kind = random_case(rng)
        open(os.path.join(d, "c.cfg"), "w").write(cfg)
        open(os.path.join(d, "t.csv"), "w").write(topo)
        args = ["-c", os.path.join(d, "c.cfg"), "-t", os.path.join(d, "t.csv"), "-i", kind]
        s = subprocess.run([sys.executable, os.path.join(a.scalesim, "scalesim", "scale.py")] +
                           args + ["-p", os.path.join(d, "ss")], capture_output=True, text=True,
                           env=env)
        q = subprocess.run([a.qarch, "scalesim", "-q"] + args + ["-p", os.path.join(d, "q")],
                           capture_output=True, text=True)
        s_ok = s.returncode == 0 and os.path.exists(os.path.join(d, "ss", "r", REPORTS[2]))
        q_ok = q.returncode == 0
        if s_ok and q_ok:
            same = all(filecmp.cmp(os.path.join(d, "ss", "r", f), os.path.join(d, "q", "r", f),
                                   shallow=False) for f in REPORTS)
            key = "same" if same else "differ"
        elif not s_ok and not q_ok:
            key = "both fail"
        else:
            key = "only qarch fails" if s_ok else "only SCALE-Sim fails"
        counts[key] += 1
        if key in ("same", "both fail"):
            shutil.rmtree(d)
        else:
            print(f"{key}: {d}", flush=True)
    print(counts)
    return 0 if counts["same"] + counts["both fail"] == a.cases else 1


if __name__ == "__main__":
    sys.exit(main())
