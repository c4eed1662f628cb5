#!/usr/bin/env bash
# Speed of `qarch scalesim` against SCALE-Sim v2 on SCALE-Sim's shipped example configs and
# topologies, at identical reports: each experiment runs in both tools, the three report files
# must be byte-identical (else the script fails), and both CPU times (user + sys, from
# /usr/bin/time) and peak memory are printed as a table, with the ratio.
#
# usage: scripts/reference/scalesim/bench.sh [SCALESIM_DIR] > bench/baselines/scalesim_speed.txt
#   SCALESIM_DIR: an unmodified SCALE-Sim v2 (default ../shared/third_party/scale-sim-v2 from
#   the repository root); run with Debian's python3 + python3-numpy, -tqdm, -absl.
# Needs build/bin/qarch (Release build).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
ss="${1:-$root/../shared/third_party/scale-sim-v2}"
ss="$(cd "$ss" && pwd)"
qarch="$root/build/bin/qarch"
# Debian's python3 has numpy/tqdm/absl; a python3 earlier on PATH (pyenv, venv) may not.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
[ -x "$qarch" ] || { echo "bench.sh: build qarch first ($qarch missing)" >&2; exit 1; }
reps=20
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# config topology input-type (SCALE-Sim's own examples; each runs in SCALE-Sim in under ~2 min)
cases=(
  "configs/scale.cfg topologies/conv_nets/test.csv conv"
  "configs/scale.cfg topologies/GEMM_mnk/test_mnk_input.csv gemm"
  "configs/scale.cfg topologies/conv_nets/alexnet_part.csv conv"
  "configs/scale.cfg topologies/conv_nets/Resnet_test.csv conv"
  "configs/scale.cfg topologies/GEMM_mnk/transformer_partial.csv gemm"
  "configs/eyeriss.cfg topologies/conv_nets/test.csv conv"
  "configs/eyeriss.cfg topologies/conv_nets/alexnet_part.csv conv"
  "configs/google.cfg topologies/GEMM_mnk/test_mnk_input.csv gemm"
)
cpu() { awk '{printf "%.3f %d\n", $1 + $2, $3}' "$1"; }

echo "# qarch scalesim vs SCALE-Sim v2 ($(cd "$ss" && git rev-parse --short HEAD 2>/dev/null || echo 22f88b1)), identical reports"
echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) cores; CPU seconds (user+sys), peak RSS in MB"
printf "%-12s %-26s %12s %10s %12s %10s %9s %12s %10s\n" config topology scalesim_s ss_MB qarch_s \
  q_MB ratio qarch_sim_s sim_ratio
total_s=0; total_q=0
for c in "${cases[@]}"; do
  read -r cfg topo kind <<<"$c"
  d="$work/$(basename "$cfg" .cfg)_$(basename "$topo" .csv)"
  mkdir -p "$d"
  PYTHONPATH="$ss" /usr/bin/time -f "%U %S %M" -o "$d/ss.time" "$py" "$ss/scalesim/scale.py" \
    -c "$ss/$cfg" -t "$ss/$topo" -p "$d/ss" -i "$kind" >"$d/ss.log" 2>&1 ||
    { echo "bench.sh: SCALE-Sim failed on $cfg $topo:" >&2; tail -3 "$d/ss.log" >&2; exit 1; }
  "$qarch" scalesim -c "$ss/$cfg" -t "$ss/$topo" -p "$d/q" -i "$kind" >"$d/q.log" 2>&1 ||
    { echo "bench.sh: qarch failed on $cfg $topo:" >&2; cat "$d/q.log" >&2; exit 1; }
  # qarch takes milliseconds, below /usr/bin/time's 10 ms resolution: time $reps whole runs
  # (process start included, as for SCALE-Sim) and divide.
  /usr/bin/time -f "%U %S %M" -o "$d/q.time" sh -c \
    'i=0; while [ $i -lt "$1" ]; do "$2" scalesim -q -c "$3" -t "$4" -p "$5" -i "$6" >/dev/null || exit 1; i=$((i+1)); done' \
    sh "$reps" "$qarch" "$ss/$cfg" "$ss/$topo" "$d/q2" "$kind"
  run="$(ls "$d/ss")"
  for f in COMPUTE_REPORT BANDWIDTH_REPORT DETAILED_ACCESS_REPORT; do
    cmp -s "$d/ss/$run/$f.csv" "$d/q/$run/$f.csv" ||
      { echo "bench.sh: $cfg $topo: $f.csv differs" >&2; exit 1; }
  done
  read -r s_s s_kb < <(cpu "$d/ss.time")
  read -r q_all q_kb < <(cpu "$d/q.time")
  q_s=$(awk -v q="$q_all" -v n="$reps" 'BEGIN{printf "%.4f", q / n}')
  q_eff=$(awk -v q="$q_s" 'BEGIN{print (q < 0.0001 ? 0.0001 : q)}')
  # The simulation alone, without the process start (qarch prints it: "... (T s)").
  q_sim=$(sed -n 's/.*DETAILED_ACCESS_REPORT.csv (\(.*\) s)$/\1/p' "$d/q.log")
  printf "%-12s %-26s %12s %10d %12s %10d %9.0f %12.6f %10.0f\n" "$(basename "$cfg")" \
    "$(basename "$topo")" "$s_s" $((s_kb / 1024)) "$q_s" $((q_kb / 1024)) \
    "$(awk -v a="$s_s" -v b="$q_eff" 'BEGIN{print a/b}')" "$q_sim" \
    "$(awk -v a="$s_s" -v b="$q_sim" 'BEGIN{print a/(b < 1e-6 ? 1e-6 : b)}')"
  total_s=$(awk -v a="$total_s" -v b="$s_s" 'BEGIN{print a+b}')
  total_q=$(awk -v a="$total_q" -v b="$q_eff" 'BEGIN{print a+b}')
done
printf "%-39s %12.3f %10s %12.4f %10s %9.0f\n" total "$total_s" "" "$total_q" "" \
  "$(awk -v a="$total_s" -v b="$total_q" 'BEGIN{print a/b}')"
echo "# qarch_s: the mean of $reps whole runs (process start included; below 0.1 ms counted as"
echo "# 0.1 ms); qarch_sim_s: the simulation and report writing alone, as qarch prints it."
