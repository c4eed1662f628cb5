#!/usr/bin/env bash
# make_reference.sh - regenerate the SCALE-Sim v2 reference reports used by qarch's
# SCALE-Sim compatibility tests.
#
# For every case in tests/sim/data/scalesim/cases.txt (lines of
#   <case_name> <cfg stem> <topology stem> <conv|gemm>
# ) it runs SCALE-Sim on tests/sim/data/scalesim/configs/<cfg stem>.cfg and
# tests/sim/data/scalesim/topologies/<topology stem>.csv in a fresh temporary folder and
# copies SCALE-Sim's COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv
# byte for byte into tests/sim/data/scalesim/ref/<case_name>/. The whole ref/ folder is
# rebuilt (stale case folders are removed). SCALE-Sim's user and system CPU seconds and max
# RSS (kB) per case, as measured by /usr/bin/time -f "%U %S %M", go to
# tests/sim/data/scalesim/timings.txt.
#
# SCALE-Sim v2 (https://github.com/scalesim-project/scale-sim-v2) is MIT-licensed
# (Copyright (c) 2024 SCALE-Sim Project). It is used unmodified, at commit 22f88b1 (v2.0.2);
# qarch does not vendor it, this script only runs it.
#
# Usage (from anywhere):
#   scripts/reference/scalesim/make_reference.sh [SCALESIM_DIR]
# SCALESIM_DIR defaults to ../shared/third_party/scale-sim-v2 relative to the repository root.
# Needs /usr/bin/time and a python3 with numpy, tqdm and absl (Debian: python3-numpy,
# python3-tqdm, python3-absl); set PYTHON to use another interpreter than /usr/bin/python3.
# Exits non-zero if any case fails (its ref/ folder is then missing); other cases still run.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../../.." && pwd)
data_dir="$repo_root/tests/sim/data/scalesim"
scalesim_dir=${1:-"$repo_root/../shared/third_party/scale-sim-v2"}
python=${PYTHON:-/usr/bin/python3}

if [[ ! -f "$scalesim_dir/scalesim/scale.py" ]]; then
    echo "error: SCALE-Sim not found at $scalesim_dir (pass its folder as the argument)" >&2
    exit 2
fi
scalesim_dir=$(cd "$scalesim_dir" && pwd)
if [[ ! -x /usr/bin/time ]]; then
    echo "error: /usr/bin/time is needed (Debian package 'time')" >&2
    exit 2
fi

cases_file="$data_dir/cases.txt"
ref_dir="$data_dir/ref"
timings_file="$data_dir/timings.txt"

work=$(mktemp -d "${TMPDIR:-/tmp}/scalesim_ref.XXXXXX")
trap 'rm -rf "$work"' EXIT

rm -rf "$ref_dir"
mkdir -p "$ref_dir"
timings_tmp="$work/timings.txt"
echo "# case user_cpu_s sys_cpu_s max_rss_kB  (SCALE-Sim v2.0.2, /usr/bin/time -f \"%U %S %M\")" \
    > "$timings_tmp"

failed=0
n=0
while read -r case_name cfg topo kind extra; do
    [[ -z "${case_name:-}" || "$case_name" == \#* ]] && continue
    if [[ -z "${kind:-}" || -n "${extra:-}" || ( "$kind" != conv && "$kind" != gemm ) ]]; then
        echo "error: malformed line in cases.txt for case '$case_name'" >&2
        failed=1
        continue
    fi
    cfg_file="$data_dir/configs/$cfg.cfg"
    topo_file="$data_dir/topologies/$topo.csv"
    for f in "$cfg_file" "$topo_file"; do
        [[ -f "$f" ]] || { echo "error: $case_name: missing $f" >&2; failed=1; continue 2; }
    done
    # SCALE-Sim writes its reports to <outdir>/<run_name>/.
    run_name=$(sed -n 's/^[[:space:]]*run_name[[:space:]]*[=:][[:space:]]*//p' "$cfg_file" \
               | head -n 1 | tr -d '[:space:]')
    run_dir="$work/$case_name"
    mkdir -p "$run_dir"
    echo "== $case_name ($cfg, $topo, $kind)"
    status=0
    (cd "$run_dir" && PYTHONPATH="$scalesim_dir" PYTHONDONTWRITEBYTECODE=1 \
        /usr/bin/time -o "$run_dir/time.txt" -f "%U %S %M" \
        "$python" "$scalesim_dir/scalesim/scale.py" \
            -c "$cfg_file" -t "$topo_file" -p "$run_dir/out" -i "$kind" \
        > "$run_dir/log.txt" 2>&1) || status=$?
    out="$run_dir/out/$run_name"
    if [[ $status -ne 0 || ! -f "$out/COMPUTE_REPORT.csv" || ! -f "$out/BANDWIDTH_REPORT.csv" \
          || ! -f "$out/DETAILED_ACCESS_REPORT.csv" ]]; then
        echo "error: $case_name: SCALE-Sim failed (exit $status); last lines of its output:" >&2
        grep -v '^Command exited' "$run_dir/log.txt" | tail -n 5 >&2 || true
        failed=1
        continue
    fi
    mkdir -p "$ref_dir/$case_name"
    cp "$out/COMPUTE_REPORT.csv" "$out/BANDWIDTH_REPORT.csv" "$out/DETAILED_ACCESS_REPORT.csv" \
        "$ref_dir/$case_name/"
    echo "$case_name $(tail -n 1 "$run_dir/time.txt")" >> "$timings_tmp"
    echo "   cpu/rss: $(tail -n 1 "$run_dir/time.txt")"
    rm -rf "$run_dir/out"
    n=$((n + 1))
done < "$cases_file"

cp "$timings_tmp" "$timings_file"
total=$(awk '!/^#/ { s += $2 + $3 } END { printf "%.2f", s }' "$timings_file")
echo "done: $n cases, total SCALE-Sim CPU time ${total} s"
exit $failed
