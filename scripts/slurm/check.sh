#!/usr/bin/env bash
# End-to-end check of scripts/slurm/sweep.sbatch under a real Slurm (CI runs it; see .ci/run):
#   1. submits a small sweep (8 points) as a job array of 3 shards, then the dependent
#      `qarch report` job, exactly as sweep.sbatch's header shows (sbatch --dependency=afterok:..);
#   2. waits until squeue shows neither (no sacct: the throwaway cluster has no accounting) and
#      checks with scontrol that every task and the report job COMPLETED;
#   3. runs the same sweep unsharded here and requires report.json, summary.csv, gemms.csv and
#      index.html to be byte-identical to the merged Slurm result;
#   4. requeues one finished shard after deleting one of its point files: the task must recompute
#      only that point, and a second report job must again give identical files.
#
#   bash scripts/slurm/check.sh   # as root; needs slurm-wlm and munge, build/bin/qarch built
#
# With SLURM_CONF set and answering it uses that cluster (its nodes must see TMPDIR); otherwise
# it starts the single-node cluster of scripts/slurm/local_cluster.sh and stops it at the end.
# Environment: QARCH (the binary, default build/bin/qarch), QARCH_SLURM_TIMEOUT (seconds per
# wait, default 300), QARCH_SLURM_REQUEUE=0 skips step 4. Exits non-zero, keeping its folder
# (job logs, both results) and printing why, on any failure or timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."  # the checkout: sweep.sbatch finds build/bin/qarch from the submit dir
t0=$SECONDS
qarch="${QARCH:-$PWD/build/bin/qarch}"
timeout="${QARCH_SLURM_TIMEOUT:-300}"
local_dir="${QARCH_SLURM_DIR:-${TMPDIR:-/tmp}/qarch-slurm}"  # local_cluster.sh's folder
started=""
work=""

fail() {
  echo "slurm check: FAILED: $*" >&2
  if [ -n "$work" ]; then
    for f in "$work"/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done >&2
    echo "slurm check: job logs and results kept in $work" >&2
  fi
  if [ -n "$started" ]; then tail -n 20 "$local_dir"/log/slurm*.log >&2 || true; fi
  exit 1
}
finish() {
  local rc=$?
  [ -n "$started" ] && bash scripts/slurm/local_cluster.sh stop >/dev/null
  [ "$rc" -eq 0 ] && [ -n "$work" ] && rm -rf "$work"
  return 0
}
trap finish EXIT
trap 'exit 1' INT TERM  # (so that finish also runs when the check is killed)

# wait_done JOBID...: until squeue lists none of them (finished jobs drop out of squeue).
wait_done() {
  local ids end=$((SECONDS + timeout)) left
  ids=$(IFS=,; echo "$*")
  while :; do
    left=$(squeue -h -j "$ids" -o '%i %T %r' 2>/dev/null || true)
    [ -z "$left" ] && return 0
    # (local_cluster.sh cancels such a job; another cluster may leave it pending for ever)
    grep -q DependencyNeverSatisfied <<<"$left" && fail "a shard failed:"$'\n'"$left"
    [ "$SECONDS" -ge "$end" ] && fail "jobs still queued after ${timeout} s:"$'\n'"$left"
    sleep 1
  done
}
# completed JOBID: every task of the job ended COMPLETED with exit code 0.
completed() {
  local info bad
  info=$(scontrol -o show job "$1") || fail "scontrol knows no job $1"
  bad=$(grep -v 'JobState=COMPLETED .*ExitCode=0:0' <<<"$info" || true)
  [ -z "$bad" ] || fail "job $1 did not complete:"$'\n'"$(awk '{ s = ""
    for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|ArrayTaskId|JobState|Reason|ExitCode)=/)
      s = s " " $i
    print s }' <<<"$bad")"
}
same() {  # same DIR_A DIR_B: the merged outputs are byte-identical
  local f
  for f in report.json summary.csv gemms.csv index.html; do
    cmp "$1/$f" "$2/$f" >&2 || fail "$1/$f and $2/$f differ (Slurm shards vs. unsharded run)"
  done
}

grep -qF -- '--wrap "build/bin/qarch report ' scripts/slurm/sweep.sbatch ||
  fail "sweep.sbatch's header no longer shows the merge job this check submits; update both"
[ -x "$qarch" ] || fail "$qarch not found: build qarch first (bash scripts/bootstrap.sh test)"
if [ -z "${SLURM_CONF:-}" ] && [ -f "$local_dir/slurm.conf" ]; then
  export SLURM_CONF="$local_dir/slurm.conf"  # a local cluster started earlier: use, keep it
fi
if [ -n "${SLURM_CONF:-}" ] && sinfo -h >/dev/null 2>&1; then
  echo "slurm check: using the cluster of $SLURM_CONF"
else
  t=$SECONDS
  started=1
  bash scripts/slurm/local_cluster.sh start >/dev/null || fail "local_cluster.sh start failed"
  export SLURM_CONF="$local_dir/slurm.conf"
  echo "slurm check: started a single-node cluster in $((SECONDS - t)) s"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/qarch-slurm-check.XXXXXX")
mkdir "$work/logs"
cat >"$work/sweep.yaml" <<'EOF'
name: slurm-check
archs: [int8, olive]
parameters: {array.rows: [8, 16]}
workloads:
  - {model: gpt2, phase: decode, context: 15, layers: "0"}
  - {model: gpt2, phase: prefill, seq: 16, layers: "0"}
accuracy: {enabled: false}
EOF
out="$work/slurm"

# 1. Three shards, then the merge. One CPU and 1 GB per task (the script asks for 2 and 8G) so
# that shards run side by side on a small machine; logs go to $work, not to the checkout.
jid=$(sbatch --parsable --array=1-3 --cpus-per-task=1 --mem=1G \
  --output="$work/logs/sweep-%A_%a.log" scripts/slurm/sweep.sbatch "$work/sweep.yaml" "$out")
jid=${jid%%;*}
rid=$(sbatch --parsable --output="$work/logs/report-%j.log" \
  --dependency=afterok:"${jid}" --wrap "build/bin/qarch report $out")
rid=${rid%%;*}
echo "slurm check: submitted array job ${jid} (3 shards) and report job ${rid}"
wait_done "$jid" "$rid"
completed "$jid"
completed "$rid"
echo "slurm check: shards and merge finished at $((SECONDS - t0)) s"

# 2. The same sweep, unsharded, here.
"$qarch" sweep "$work/sweep.yaml" --out "$work/local" --jobs 2 >"$work/logs/local.log" 2>&1 ||
  fail "the unsharded sweep failed (see local.log)"
same "$work/local" "$out"
echo "slurm check: merged Slurm result == unsharded result (report.json, *.csv, index.html)"

# 3. Requeue shard 2 with one of its points deleted: it must redo just that point.
if [ "${QARCH_SLURM_REQUEUE:-1}" != 0 ]; then
  log="$work/logs/sweep-${jid}_2.log"
  point=$(grep -oE 'p[0-9]+ done' "$log" | head -n 1 | cut -d' ' -f1)
  [ -n "$point" ] || fail "no finished point in $log"
  rm "$out/points/$point.json"
  scontrol requeue "${jid}_2" || fail "scontrol requeue ${jid}_2 failed"
  # A requeued job may not start for 121 s (the job credential's lifetime); skip the wait.
  scontrol update JobId="${jid}_2" StartTime=now || fail "could not move ${jid}_2's start time"
  rid2=$(sbatch --parsable --output="$work/logs/report-%j.log" \
    --dependency=afterok:"${jid}_2" --wrap "build/bin/qarch report $out")
  rid2=${rid2%%;*}
  wait_done "${jid}_2" "$rid2"
  completed "${jid}_2"
  completed "$rid2"
  grep -q ', 1 to run' "$log" ||
    fail "the requeued shard did not resume (expected '1 to run' in $log)"
  [ -f "$out/points/$point.json" ] || fail "the requeued shard did not recompute $point"
  same "$work/local" "$out"
  echo "slurm check: requeued shard 2 recomputed only $point; the merged result is still identical"
fi

echo "slurm check: passed in $((SECONDS - t0)) s"
