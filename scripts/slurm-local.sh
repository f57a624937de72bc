#!/usr/bin/env bash
# A single-node Slurm on this machine, for tests and trying `bmru batch submit --slurm` (DESIGN §6).
#
#   scripts/slurm-local.sh start    # munged, slurmctld, slurmd; prints `export SLURM_CONF=...` on stdout
#   scripts/slurm-local.sh status   # sinfo
#   scripts/slurm-local.sh stop     # stops what `start` started
#
# Needs root and Debian's `slurm-wlm` and `munge` packages. Everything Slurm writes (config, state, spool,
# pid and log files) sits in $BMRU_SLURM_DIR (default /tmp/bmru-slurm), which `start` empties first. The node
# and the controller are addressed as 127.0.0.1 only; no accounting (sacct) is configured. A `start` while
# this set-up already answers reuses it; `stop` stops munged only if `start` started it.
set -euo pipefail

DIR="${BMRU_SLURM_DIR:-/tmp/bmru-slurm}"
CONF="$DIR/slurm.conf"
HOST="$(hostname -s)"
export SLURM_CONF="$CONF"
# The daemons live in /usr/sbin, which a non-login root shell may not have on its PATH.
export PATH="$PATH:/usr/sbin:/sbin"

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Seconds to wait for something that takes about one here; long enough for a loaded 2-core CI machine.
WAIT_S=60

wait_for() { # wait_for <what> <command...>: polls every 0.5 s for WAIT_S
  local what="$1"; shift
  local i
  for ((i = 0; i < WAIT_S * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

munge_ok() { munge -n </dev/null | unmunge >/dev/null; }
node_idle() { [ "$(sinfo -h -n "$HOST" -o %T 2>/dev/null)" = idle ]; }
# Up and answering, busy or not: a set-up running someone's jobs is reused, not restarted (which empties its queue).
node_up() { case "$(sinfo -h -n "$HOST" -o %T 2>/dev/null)" in idle | mixed | allocated | completing) return 0 ;; *) return 1 ;; esac; }

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    say "no /etc/munge/munge.key: creating one (mungekey -c)"
    mungekey -c -k /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  if munge_ok 2>/dev/null; then return 0; fi
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  touch "$DIR/started-munged"
  wait_for munged munge_ok || die "munged did not answer within ${WAIT_S} s (see /var/log/munge/munged.log)"
}

write_conf() {
  local mem_mb
  # slurmd drains a node whose RealMemory exceeds what it finds: stay 10% below the total.
  # /proc/meminfo rather than free(1): procps is not on every minimal image.
  mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
  cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh: one node, loopback only, no accounting.
ClusterName=bmru-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
# sbatch --wait polls after 2 s, then 8 s, then every 32 s, but grows its interval only while it is below
# MinJobAge/2 (so that a finished job's record is not purged between two polls): with 4 it polls every 2 s.
MinJobAge=4
# Daemons listen on the address the host name resolves to (checked to be loopback), not on every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root (munged, slurmctld and slurmd are system daemons)"
  for tool in munge munged slurmctld slurmd sinfo sbatch; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found: apt-get install -y slurm-wlm munge"
  done
  if pid_alive "$DIR/slurmctld.pid" && pid_alive "$DIR/slurmd.pid" && node_up; then
    say "already running (config $CONF)"
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  local addr
  addr="$(getent hosts "$HOST" | awk '{ print $1; exit }')"
  case "$addr" in
    127.*) ;;
    *) say "warning: $HOST resolves to '${addr:-nothing}', not 127.x: the daemons listen there (add '127.0.0.1 $HOST' to /etc/hosts for loopback only)" ;;
  esac
  stop_slurm
  rm -rf "$DIR/state" "$DIR/spool" "$DIR"/*.log
  mkdir -p "$DIR/state" "$DIR/spool"
  start_munge
  write_conf
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  if ! wait_for "idle node" node_idle; then
    sinfo -N -l >&2 || true
    tail -n 20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
    die "node $HOST is not idle after ${WAIT_S} s (logs above, in $DIR)"
  fi
  say "node $HOST idle with $(nproc) CPUs (config $CONF, logs in $DIR)"
  echo "export SLURM_CONF=$CONF"
}

stop_daemon() { # stop_daemon <pid file>
  local pidfile="$1" pid
  pid_alive "$pidfile" || return 0
  pid="$(cat "$pidfile")"
  kill "$pid"
  wait_for "exit of $pid" sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
}

stop_slurm() {
  stop_daemon "$DIR/slurmd.pid"
  stop_daemon "$DIR/slurmctld.pid"
}

stop() {
  stop_slurm
  if [ -e "$DIR/started-munged" ]; then
    stop_daemon /run/munge/munged.pid
    rm -f "$DIR/started-munged"
  fi
  say "stopped (logs stay in $DIR)"
}

case "${1:-}" in
  start) mkdir -p "$DIR"; start ;;
  stop) stop ;;
  status) sinfo -N -l ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
