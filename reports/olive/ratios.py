#!/usr/bin/env python3
"""OliVe-vs-baseline ratios from a qarch report.json (reports/olive/run.sh calls this).

For every workload: speedup = baseline seconds / OliVe seconds, and energy efficiency =
baseline energy / OliVe energy (the paper's "x more energy-efficient"). Over the four prefill
workloads (the paper's four models) it adds the geometric mean and, because ANT's public
simulator script (ant_simulator/run_ant.py) labels an arithmetic mean of normalized values
"Geomean", the arithmetic mean of the ratios too.

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


def base_name(arch):
    return arch[: -len("-literal")] if arch.endswith("-literal") else arch


def energy(p):
    return sum(p["energy_pj"].values())


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
            rows.append({
                "model": key[0],
                "phase": key[1],
                "baseline": b,
                "speedup": p["seconds"] / o["seconds"],
                "energy_efficiency": energy(p) / energy(o),
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
    for metric, title, idx in (("speedup", "Speedup of OliVe", 0),
                               ("energy_efficiency", "Energy efficiency of OliVe", 1)):
        lines.append("%s (baseline / OliVe)\n" % title)
        lines.append("| workload | " + " | ".join(present) + " |")
        lines.append("|---|" + "---:|" * len(present))
        prefill = {}
        for key in sorted(by_wl, key=wl_sort):
            cells = []
            for b in present:
                r = [x for x in rows if (x["model"], x["phase"]) == key and x["baseline"] == b]
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
