#!/usr/bin/env python3
"""OliVe-vs-baseline ratios from a qarch report.json (reports/olive/run.sh calls this).

For every workload: speedup = baseline seconds / OliVe seconds, and energy efficiency =
baseline energy / OliVe energy (the paper's "x more energy-efficient"). Over the four prefill
workloads (the paper's four models) it adds the geometric mean and, because ANT's public
simulator script (ant_simulator/run_ant.py) labels an arithmetic mean of normalized values
"Geomean", the arithmetic mean of the ratios too.

A third table (analysis only, not qarch's energy model) prices qarch's cycle counts with the
per-cycle core and static energy of ANT's public simulator, to show how much of the paper's
energy ratios follows from run time and array size alone (README.md, "Why they differ").

Writes ratios.csv (one row per workload x baseline) and ratios.md (the tables README.md quotes).
Standard library only; deterministic output.
"""
import csv
import json
import math
import sys

# Architecture names (the YAMLs' `name`) without the "-literal" suffix of the sensitivity runs.
OLIVE = "olive"
BASELINES = ["adafloat", "olaccel", "ant-8bit", "ant-4bit", "gobo"]
# The paper's headline numbers (ISCA 2023, abstract and introduction; the issue quotes them):
# speedup and energy reduction of OliVe over each baseline. GOBO's are against GOBO on a GPU.
PAPER = {
    "adafloat": (4.8, 3.7),
    "olaccel": (3.8, 2.1),
    "ant-8bit": (3.7, 3.3),
    "gobo": (4.5, 4.0),
}
MODEL_ORDER = ["bert-base", "bert-large", "gpt2-xl", "opt-6.7b"]

# For the "why they differ" analysis only (not qarch's energy model): the per-cycle energy terms of
# ANT's public simulator (clevercool/ANT-Quantization, ant_simulator), applied to qarch's cycles.
# - core: every design uses one synthesized 8/4-bit PE (results/systolic_array_synth.csv:
#   279960 nW dynamic, 64314 nW leakage at 500 MHz) times its a x c PEs; dynamic energy on
#   non-stall cycles, leakage on all cycles (stats.py get_energy_breakdown);
# - static: 484.615 / 500 nJ per cycle for every design (stats.py, "dram_leak_energy").
# SRAM and DRAM bit energies are left out (they need the simulator's own tiling).
ANT_SIM_CORE_DYN_PJ = 279960e-9 / 500e6 * 1e12   # per PE per non-stall cycle
ANT_SIM_CORE_LEAK_PJ = 64314e-9 / 500e6 * 1e12   # per PE per cycle
ANT_SIM_STATIC_PJ = 484.615 / 500 * 1e3          # per cycle
# a x c of each design in ANT-simulator units (conf_*.ini); GOBO is not in that simulator.
ANT_SIM_PES = {"olive": 32 * 32, "ant-8bit": 32 * 32, "ant-4bit": 32 * 32, "olaccel": 16 * 18,
               "adafloat": 32 * 28}


def base_name(arch):
    return arch[: -len("-literal")] if arch.endswith("-literal") else arch


def energy(p):
    return sum(p["energy_pj"].values())


def ant_sim_energy(p):
    """qarch cycles x ANT's simulator per-cycle core and static energy (pJ), or None."""
    pes = ANT_SIM_PES.get(p["arch"])
    if pes is None:
        return None
    busy = p["cycles"] - p["stall_cycles"]
    return (pes * (busy * ANT_SIM_CORE_DYN_PJ + p["cycles"] * ANT_SIM_CORE_LEAK_PJ) +
            p["cycles"] * ANT_SIM_STATIC_PJ)


def fmt(x):
    return "%.2f" % x


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ratios.py REPORT.json OUT_PREFIX")
    report_path, prefix = sys.argv[1], sys.argv[2]
    with open(report_path) as f:
        report = json.load(f)

    # workload key -> arch -> point
    by_wl = {}
    for p in report["points"]:
        w = p["workload"]
        key = (w["model"], w["phase"])
        by_wl.setdefault(key, {})[base_name(p["arch"])] = p

    def wl_sort(key):
        model, phase = key
        return (0 if phase == "prefill" else 1, MODEL_ORDER.index(model) if model in MODEL_ORDER else 99)

    rows = []
    for key in sorted(by_wl, key=wl_sort):
        pts = by_wl[key]
        if OLIVE not in pts:
            sys.exit("ratios.py: no '%s' point for %s %s" % (OLIVE, key[0], key[1]))
        o = pts[OLIVE]
        for b in BASELINES:
            if b not in pts:
                continue
            p = pts[b]
            eo, eb = ant_sim_energy(o), ant_sim_energy(p)
            rows.append({
                "model": key[0],
                "phase": key[1],
                "baseline": b,
                "speedup": p["seconds"] / o["seconds"],
                "energy_efficiency": energy(p) / energy(o),
                "ant_sim_energy_efficiency": eb / eo if eo and eb else float("nan"),
                "olive_seconds": o["seconds"],
                "baseline_seconds": p["seconds"],
                "olive_energy_uj": energy(o) * 1e-6,
                "baseline_energy_uj": energy(p) * 1e-6,
                "olive_utilization": o["utilization"],
                "baseline_utilization": p["utilization"],
                "olive_dram_bytes": o["dram_read_bytes"] + o["dram_write_bytes"],
                "baseline_dram_bytes": p["dram_read_bytes"] + p["dram_write_bytes"],
            })

    with open(prefix + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (("%.6g" % v) if isinstance(v, float) else v) for k, v in r.items()})

    present = [b for b in BASELINES if any(r["baseline"] == b for r in rows)]
    lines = []
    tables = [("speedup", "Speedup of OliVe", 0),
              ("energy_efficiency", "Energy efficiency of OliVe", 1)]
    if not any(p["arch"].endswith("-literal") for p in report["points"]):
        tables.append(("ant_sim_energy_efficiency", "Analysis only: energy efficiency of OliVe "
                       "with ANT's simulator's per-cycle core + static energy on qarch's cycles", 1))
    for metric, title, idx in tables:
        lines.append("%s (baseline / OliVe)\n" % title)
        lines.append("| workload | " + " | ".join(present) + " |")
        lines.append("|---|" + "---:|" * len(present))
        prefill = {}
        for key in sorted(by_wl, key=wl_sort):
            cells = []
            for b in present:
                r = [x for x in rows if (x["model"], x["phase"]) == key and x["baseline"] == b
                     and not math.isnan(x[metric])]
                cells.append(fmt(r[0][metric]) if r else "-")
                if r and key[1] == "prefill":
                    prefill.setdefault(b, []).append(r[0][metric])
            lines.append("| %s %s | %s |" % (key[0], key[1], " | ".join(cells)))
        n_models = max((len(v) for v in prefill.values()), default=0)
        geo = [fmt(math.exp(sum(math.log(v) for v in prefill[b]) / len(prefill[b])))
               if b in prefill else "-" for b in present]
        ari = [fmt(sum(prefill[b]) / len(prefill[b])) if b in prefill else "-" for b in present]
        lines.append("| **geomean, %d prefill workloads** | %s |" % (n_models, " | ".join(
            "**%s**" % g for g in geo)))
        lines.append("| arithmetic mean, prefill | %s |" % " | ".join(ari))
        lines.append("| paper (OliVe, ISCA 2023) | %s |" % " | ".join(
            fmt(PAPER[b][idx]) + (" (GPU)" if b == "gobo" else "") if b in PAPER else "-"
            for b in present))
        lines.append("")
    with open(prefix + ".md", "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
