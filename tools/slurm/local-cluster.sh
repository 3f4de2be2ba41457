#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying `deno task sweep SPEC --slurm` on a laptop or VM.
#
#   tools/slurm/local-cluster.sh start    install slurm-wlm + munge (apt, as root) if missing, write a one-node
#                                         slurm.conf in the state directory, start munged, slurmctld, slurmd
#   tools/slurm/local-cluster.sh status   the daemons' pids and `sinfo`
#   tools/slurm/local-cluster.sh stop     cancel this cluster's jobs, stop the daemons by their pids
#
# State directory: $FP4LAB_SLURM_DIR (default ${TMPDIR:-/tmp}/fp4lab-slurm); slurmctld listens on
# $FP4LAB_SLURM_PORT (default 6817) and slurmd on the next port. Point Slurm's commands at the
# cluster with `export SLURM_CONF=<state dir>/slurm.conf` (start prints the line). Needs root: slurmd starts
# jobs and munged runs as the `munge` user. No systemd, no cgroups (proctrack/linuxproc, task/none).
# Exit status: 0 ok; 1 a daemon failed (its log is named); 3 a missing piece (named) that needs root to install.
set -euo pipefail
dir=${FP4LAB_SLURM_DIR:-${TMPDIR:-/tmp}/fp4lab-slurm}
conf=$dir/slurm.conf
port=${FP4LAB_SLURM_PORT:-6817}
export SLURM_CONF=$conf
me=local-cluster

say() { echo "$me: $*" >&2; }
die() { say "$*"; exit 1; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pidof_file() { [ -s "$1" ] && cat "$1" || true; }

missing_pieces() { # the packages whose programs are not installed
  local m=()
  for p in slurmctld slurmd sbatch squeue scontrol; do
    command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$p" >/dev/null 2>&1 || { m+=(slurm-wlm); break; }
  done
  for p in munged munge; do
    command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$p" >/dev/null 2>&1 || { m+=(munge); break; }
  done
  echo "${m[@]}"
}

ensure_installed() {
  local m; m=$(missing_pieces)
  [ -z "$m" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing: $m (slurmctld/slurmd/sbatch or munged); as root run: apt-get install -y --no-install-recommends $m"
    exit 3
  fi
  say "installing $m from apt (about a minute)"
  local i
  for i in 1 2 3; do # another apt may hold the lists lock for a while
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null && break
    [ "$i" = 3 ] && die "apt-get update failed"; sleep 20
  done
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $m >/dev/null
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_ok; then say "munged already running (not ours; left alone)"; return 0; fi
  [ -f /etc/munge/munge.key ] || mungekey -c -f >/dev/null 2>&1 || /usr/sbin/mungekey -c -f
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
  chmod 0700 /etc/munge; chmod 0600 /etc/munge/munge.key
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
  munge_ok || die "munged did not start (see /var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$dir/munged.pid" # ours: stop kills it
}

write_conf() {
  local host cpus mem
  host=$(hostname -s); cpus=$(nproc)
  mem=$(free -m | awk '/^Mem:/ { print int($2 * 0.9) }')
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  cat >"$conf" <<CONF
# One-node cluster written by tools/slurm/local-cluster.sh
ClusterName=fp4lab-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
KillWait=30
AuthInfo=cred_expire=10
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

status() {
  local rc=0
  for d in slurmctld slurmd munged; do
    local p; p=$(pidof_file "$dir/$d.pid")
    if alive "$p"; then echo "$d: running (pid $p)"; else echo "$d: not running"; [ "$d" = munged ] || rc=1; fi
  done
  if [ $rc = 0 ]; then sinfo --noheader -o "%P %a %D %t %N" || rc=1; fi
  return $rc
}

start() {
  if [ -f "$conf" ] && alive "$(pidof_file "$dir/slurmctld.pid")" && alive "$(pidof_file "$dir/slurmd.pid")"; then
    say "already running"; echo "export SLURM_CONF=$conf"; return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    local m; m=$(missing_pieces)
    say "needs root (slurmd starts jobs, munged runs as munge)${m:+; also missing: $m}"; exit 3
  fi
  ensure_installed
  mkdir -p "$dir"
  start_munge
  write_conf
  /usr/sbin/slurmctld -f "$conf" || die "slurmctld did not start (see $dir/log/slurmctld.log)"
  /usr/sbin/slurmd -f "$conf" || die "slurmd did not start (see $dir/log/slurmd.log)"
  local state=""
  for _ in $(seq 100); do
    state=$(sinfo --noheader -o %t 2>/dev/null | head -1 || true)
    [ "$state" = idle ] || [ "$state" = mix ] || [ "$state" = alloc ] && break
    sleep 0.3
  done
  case "$state" in idle | mix | alloc) ;; *) die "node not up (state '$state'); see $dir/log/" ;; esac
  say "one-node cluster up: $(hostname -s), $(nproc) CPUs, partition debug; logs in $dir/log"
  echo "export SLURM_CONF=$conf"
}

stop_pid() { # stop_pid NAME: TERM, wait up to 10 s, then KILL
  local f="$dir/$1.pid" p; p=$(pidof_file "$f")
  alive "$p" || { rm -f "$f"; return 0; }
  kill "$p" 2>/dev/null || true
  for _ in $(seq 100); do alive "$p" || break; sleep 0.1; done
  alive "$p" && kill -9 "$p" 2>/dev/null || true
  rm -f "$f"
}

stop() {
  if [ -f "$conf" ] && alive "$(pidof_file "$dir/slurmctld.pid")"; then
    scancel --user "$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(squeue --noheader -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  stop_pid slurmd
  stop_pid slurmctld
  stop_pid munged
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: tools/slurm/local-cluster.sh start|stop|status   (state: \$FP4LAB_SLURM_DIR, default ${TMPDIR:-/tmp}/fp4lab-slurm)" >&2; exit 2 ;;
esac
