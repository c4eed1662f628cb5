#!/usr/bin/env bash
# Runs the OliVe (ISCA 2023) accelerator comparison with qarch and writes
#   results/        report.json, summary.csv, gemms.csv, index.html (6 accelerators x 6 workloads)
#                   ratios.csv, ratios.md (OliVe vs each baseline, per workload and geomean)
#   results/literal report of the literal-array-size sensitivity check, and its ratios
# Usage: reports/olive/run.sh [path/to/qarch]   (default: build/bin/qarch of this checkout)
# Environment: JOBS (points computed concurrently, default 2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
qarch="${1:-$root/build/bin/qarch}"
jobs="${JOBS:-2}"
[ -x "$qarch" ] || { echo "run.sh: no qarch executable at $qarch (build it: make -C build qarch)" >&2; exit 2; }

run_sweep() { # sweep file, output dir
  local start end
  start=$(date +%s)
  # Start from scratch: a stale point file would be reused only if its key matched, but the
  # committed results must come from one run of one qarch.
  rm -rf "$2"
  "$qarch" sweep "$1" --out "$2" --jobs "$jobs"
  rm -rf "$2/points"  # per-point files are for resuming; report.json holds every point
  python3 "$here/ratios.py" "$2/report.json" "$2/ratios"
  end=$(date +%s)
  echo "run.sh: $1 took $((end - start)) s" >&2
}

run_sweep "$here/sweep.yaml" "$here/results"
run_sweep "$here/literal/sweep.yaml" "$here/results/literal"
cat "$here/results/ratios.md"
