#!/usr/bin/env bash
# A throw-away single-node Slurm on localhost for the study tests: munged
# with its own key and socket, slurmctld and slurmd (Debian slurm-wlm) with
# a private slurm.conf (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none,
# SlurmUser=root, ports chosen per run), all under DIR.  Needs root.
# Sourced: slurm_start DIR (exports SLURM_CONF; returns 1, with the reason in
# SLURM_WHY, when a daemon does not come up), slurm_stop.
slurm_start() {
  local d=$1 host port
  SLURM_DIR=$d SLURM_WHY=
  [ "$(id -u)" -eq 0 ] || { SLURM_WHY="not root"; return 1; }
  for b in munged slurmctld slurmd sbatch squeue; do
    command -v "$b" >/dev/null || { SLURM_WHY="$b not installed"; return 1; }
  done
  mkdir -p "$d/state" "$d/spool" "$d/munge"
  chmod 700 "$d/munge"
  dd if=/dev/urandom of="$d/munge/key" bs=1024 count=1 status=none
  chmod 400 "$d/munge/key"
  munged --force --key-file="$d/munge/key" --socket="$d/munge/sock" --pid-file="$d/munge/pid" \
    --seed-file="$d/munge/seed" --log-file="$d/munge/log" 2>"$d/munged.err" \
    || { SLURM_WHY="munged: $(tail -n1 "$d/munged.err")"; return 1; }
  host=$(hostname -s)
  port=$(( 20000 + ($$ % 20000) ))
  cat > "$d/slurm.conf" <<CONF
ClusterName=xftest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$d/munge/sock
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
SlurmctldTimeout=30
SlurmdTimeout=30
$(slurmd -C | head -n1) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  export SLURM_CONF=$d/slurm.conf
  slurmctld -i 2>"$d/slurmctld.err" || { SLURM_WHY="slurmctld: $(tail -n1 "$d/slurmctld.err")"; return 1; }
  slurmd 2>"$d/slurmd.err" || { SLURM_WHY="slurmd: $(tail -n1 "$d/slurmd.err")"; return 1; }
  local i
  for i in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -qx idle && return 0
    sleep 1
  done
  SLURM_WHY="node never idle: $(sinfo -h -o '%T %E' 2>&1 | head -n1); $(tail -n2 "$d/slurmctld.log" 2>/dev/null | tr '\n' ' ')"
  return 1
}

slurm_stop() {
  local d=${SLURM_DIR:-} f
  [ -n "$d" ] || return 0
  for f in slurmd.pid slurmctld.pid munge/pid; do
    [ -f "$d/$f" ] && kill "$(cat "$d/$f")" 2>/dev/null
  done
  sleep 1
  for f in slurmd.pid slurmctld.pid munge/pid; do
    [ -f "$d/$f" ] && kill -9 "$(cat "$d/$f")" 2>/dev/null
  done
  return 0
}
