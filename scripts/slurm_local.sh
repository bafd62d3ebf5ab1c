#!/usr/bin/env bash
# A real one-node Slurm on this machine (Debian/Ubuntu, as root), for trying the submitit launcher and requeue.
#   scripts/slurm_local.sh start     # apt-get install slurm-wlm munge (+ mariadb, slurmdbd for sacct); start daemons
#   scripts/slurm_local.sh stop      # stop them (by pid) and remove their pidfiles
#   scripts/slurm_local.sh status
# Settings from docs/sweeps_and_clusters.md: linuxproc tracking, no cgroups, requeued jobs restart in ~10 s
# (cred_expire=5, bf_interval=5). Accounting (slurmdbd) lets submitit read job states; SLURM_ACCOUNTING=0 skips it.
set -euo pipefail

STATE=/var/lib/vt-slurm
PIDS=$STATE/pids            # the daemons this script started; stop ends exactly these
CONF_DIR=/etc/slurm
ACCOUNTING=${SLURM_ACCOUNTING:-1}

running() { [ -f "$PIDS/$1" ] && kill -0 "$(cat "$PIDS/$1")" 2>/dev/null; }

daemon() {  # daemon NAME COMMAND…: start in the background (foreground mode), remember its pid
  local name=$1; shift
  running "$name" && return 0
  nohup "$@" >"/var/log/slurm/$name.out" 2>&1 &
  echo $! >"$PIDS/$name"
}

start() {
  [ "$(id -u)" = 0 ] || { echo "error: run as root (apt-get and the daemons need it)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  local pkgs="slurm-wlm munge"
  [ "$ACCOUNTING" = 1 ] && pkgs="$pkgs slurmdbd mariadb-server"
  if ! command -v slurmctld >/dev/null || { [ "$ACCOUNTING" = 1 ] && ! command -v slurmdbd >/dev/null; }; then
    apt-get update -qq && apt-get install -y -qq $pkgs >/dev/null
  fi
  mkdir -p "$STATE"/{ctld,d} "$PIDS" /var/log/slurm /run/munge /etc/munge
  chown -R slurm:slurm "$STATE" /var/log/slurm
  chown munge:munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  daemon munged runuser -u munge -- /usr/sbin/munged -F

  local host; host=$(hostname -s)
  local node; node=$(slurmd -C | head -1 | sed "s/NodeName=[^ ]*/NodeName=$host NodeAddr=127.0.0.1/; s/ UpTime=.*//")
  local acct="AccountingStorageType=accounting_storage/none"
  if [ "$ACCOUNTING" = 1 ]; then
    acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
    start_slurmdbd
  fi
  mkdir -p "$CONF_DIR"
  cat > "$CONF_DIR/slurm.conf" <<EOF
ClusterName=vt
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=5
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5
JobRequeue=1
ReturnToService=2
MailProg=/bin/true
$acct
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  daemon slurmctld slurmctld -D -i
  daemon slurmd slurmd -D
  for _ in $(seq 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then sinfo; return 0; fi
    sleep 1
  done
  echo "error: the node did not become idle; see /var/log/slurm/" >&2
  exit 1
}

start_slurmdbd() {
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  daemon mariadbd mysqld --user=mysql
  for _ in $(seq 30); do mysqladmin ping >/dev/null 2>&1 && break; sleep 1; done
  mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db; CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  mkdir -p "$CONF_DIR"
  cat > "$CONF_DIR/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=/run/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
EOF
  chown slurm:slurm "$CONF_DIR/slurmdbd.conf" && chmod 600 "$CONF_DIR/slurmdbd.conf"
  daemon slurmdbd slurmdbd -D
  for _ in $(seq 30); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 1; done
}

stop() {
  # by pid, the daemons this script started; stale pidfiles break a later start or package removal
  for name in slurmd slurmctld slurmdbd mariadbd munged; do
    if running "$name"; then kill "$(cat "$PIDS/$name")"; fi
    rm -f "$PIDS/$name" "/run/$name.pid"
  done
  echo "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo && squeue ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
