#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on this machine, for checking scripts/slurm/sweep.sbatch
# under a real Slurm (scripts/slurm/check.sh). Needs root and the Debian packages slurm-wlm and
# munge (apt-get install slurm-wlm munge); no systemd: the daemons are started by hand.
#
#   bash scripts/slurm/local_cluster.sh start   # write the config, start munged, slurmctld, slurmd
#   export SLURM_CONF=/tmp/qarch-slurm/slurm.conf   # (printed by start) for sbatch, squeue, ...
#   bash scripts/slurm/local_cluster.sh stop    # stop the three daemons, remove the folder
#
# Everything lives in one folder, QARCH_SLURM_DIR (default ${TMPDIR:-/tmp}/qarch-slurm):
# slurm.conf and cgroup.conf, a private munge key and socket (the machine's own munged, if any,
# is left alone), state, spool, pid and log files. The node is this machine (its CPUs and memory
# as `slurmd -C` sees them) in one partition, `debug`; no accounting, no cgroups (proctrack/
# linuxproc, task/none), so it also runs in a container. Jobs run as the submitting user (root).
# `start` on a running cluster only waits for the node to be idle; `stop` on a stopped one is a
# no-op. QARCH_SLURM_PORT moves slurmctld's port (default 6817; slurmd uses the next one).
set -euo pipefail

dir="${QARCH_SLURM_DIR:-${TMPDIR:-/tmp}/qarch-slurm}"
port="${QARCH_SLURM_PORT:-6817}"
export SLURM_CONF="$dir/slurm.conf"

die() { echo "local_cluster: $*" >&2; exit 1; }
pid_of() {  # pid_of DAEMON: its pid, if its pid file names a live process of that name
  local pid
  pid=$(cat "$dir/$1.pid" 2>/dev/null) && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] &&
    echo "$pid"
}
alive() { pid_of "$1" >/dev/null; }
logs() {  # the last lines of each daemon's log, after a failure
  local f
  for f in "$dir"/log/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done >&2
}
wait_idle() {  # wait_idle SECONDS: until sinfo shows the node idle
  local state="" i
  for ((i = 0; i < $1 * 2; i++)); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && return 0
    sleep 0.5
  done
  logs
  die "the node is not idle after $1 s (sinfo: '${state:-no answer}'); logs above, in $dir/log"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (starts slurmd and munged)"
  local t
  for t in munged mungekey slurmctld slurmd sinfo scontrol; do
    command -v "$t" >/dev/null || die "$t not found: apt-get install -y slurm-wlm munge"
  done
  if alive slurmctld && alive slurmd && alive munged; then
    echo "local_cluster: already running in $dir"
    wait_idle 30
    echo "export SLURM_CONF=$SLURM_CONF"
    return
  fi
  stop quiet  # a half-started cluster: start afresh
  local t0=$SECONDS host node
  mkdir -p "$dir"/{state,spool,log}
  chmod 755 "$dir"  # munged insists that everyone can reach its socket's folder
  host=$(hostname -s)
  # The node as slurmd detects it: "NodeName=host CPUs=.. Boards=.. ... RealMemory=..".
  node=$(slurmd -C | head -n 1)
  [[ "$node" == NodeName=* ]] || die "slurmd -C printed no node line: $node"
  [ -f "$dir/munge.key" ] || mungekey --create --keyfile="$dir/munge.key"
  chmod 600 "$dir/munge.key"
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm/local_cluster.sh: a throwaway single-node cluster.
ClusterName=qarch-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# A job whose dependency can no longer be met (a failed shard) is cancelled, not left pending.
DependencyParameters=kill_invalid_depend
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$dir/cgroup.conf" <<EOF
# Written by scripts/slurm/local_cluster.sh: no cgroup plugin is configured in slurm.conf.
CgroupPlugin=autodetect
EOF
  munged --socket="$dir/munge.socket" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed" ||
    { logs; die "munged failed to start"; }
  # -c: a fresh cluster, no jobs or node state from an earlier one.
  slurmctld -c || { logs; die "slurmctld failed to start"; }
  slurmd || { logs; die "slurmd failed to start"; }
  wait_idle 60
  echo "local_cluster: node ${host} idle after $((SECONDS - t0)) s ($dir)"
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
  local quiet="${1:-}" d pid i
  if alive slurmctld; then scontrol shutdown >/dev/null 2>&1 || true; fi
  for d in slurmd slurmctld munged; do
    pid=$(pid_of "$d") || continue  # (gone already after scontrol shutdown)
    kill "$pid" 2>/dev/null || continue
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && { echo "local_cluster: $d ($pid) did not stop" >&2; return 1; }
  done
  [ -n "$quiet" ] || { [ -d "$dir" ] && echo "local_cluster: stopped, removed $dir"; }
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: bash scripts/slurm/local_cluster.sh start|stop" >&2; exit 2 ;;
esac
