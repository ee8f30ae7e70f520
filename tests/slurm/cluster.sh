#!/usr/bin/env bash
# A real Slurm cluster on loopback for the Slurm tests: munge, slurmctld, two slurmd nodes (n1, n2) and
# slurmrestd, all from Debian's packages, in a private folder with private ports.
#
#   tests/slurm/cluster.sh COMMAND ARGS...
#
# starts the cluster, runs COMMAND with the cluster described in its environment, stops every daemon this
# script started (by pid) and exits with COMMAND's status. Where the cluster cannot start (not root, Slurm
# not installed, a daemon that does not come up) it prints why and exits 1: the tests fail, never skip.
#
# COMMAND sees:
#   TRAINYARD_TEST_SLURM_URL         http://127.0.0.1:PORT (slurmrestd, openapi/v0.0.38)
#   TRAINYARD_TEST_SLURM_USER        the ordinary user jobs run as (slurmrestd rejects root's tokens)
#   TRAINYARD_TEST_SLURM_TOKEN_FILE  that user's JWT, mode 0600
#   TRAINYARD_TEST_SLURM_SHARED      a folder the user owns: the "shared file system" of the two nodes
#   SLURM_CONF                       the cluster's slurm.conf, for scontrol/squeue in the tests
set -euo pipefail

readonly job_user=trainyard-slurm
readonly ctld_port=17817 rest_port=16820 node1_port=17001 node2_port=17002

die() { echo "tests/slurm/cluster.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: cluster.sh COMMAND ARGS..."
[ "$(id -u)" -eq 0 ] || die "must run as root (it starts munged, slurmctld, slurmd and slurmrestd); the Slurm tests cannot run"
for tool in munged munge unmunge slurmctld slurmd slurmrestd scontrol sinfo srun; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool not found: run packaging/install-deps.sh (slurm-wlm, slurmrestd, munge)"
done
export PATH="$PATH:/usr/sbin"

dir=$(mktemp -d /tmp/trainyard-slurm.XXXXXX)
chmod 755 "$dir"
pids=()
munged_pid=""

stop_all() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ -n "$munged_pid" ]; then kill "$munged_pid" 2>/dev/null || true; fi
    if [ "$status" -ne 0 ] && [ -z "${command_ran:-}" ]; then
        for log in "$dir"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }; done >&2
    fi
    rm -rf "$dir"
    exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# The user jobs run as.
if ! id "$job_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$job_user"
fi

# munge: reuse a running munged, else start one with the package's key (made when missing).
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
    fi
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munged_pid=$(cat /run/munge/munged.pid 2>/dev/null || true)
    munge -n | unmunge >/dev/null 2>&1 || die "munged did not start"
fi

head -c 32 /dev/urandom > "$dir/jwt.key"
chmod 0600 "$dir/jwt.key"
mkdir -p "$dir/state" "$dir/spool-n1" "$dir/spool-n2"
cat > "$dir/slurm.conf" <<CONF
ClusterName=trainyard-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$dir/jwt.key
KillWait=5
NodeName=n1 NodeAddr=127.0.0.1 Port=$node1_port CPUs=2 State=UNKNOWN
NodeName=n2 NodeAddr=127.0.0.1 Port=$node2_port CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -D -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 & pids+=($!)
slurmd -D -N n1 -f "$SLURM_CONF" >"$dir/slurmd-n1.out" 2>&1 & pids+=($!)
slurmd -D -N n2 -f "$SLURM_CONF" >"$dir/slurmd-n2.out" 2>&1 & pids+=($!)
idle=0
for _ in $(seq 150); do
    idle=$(sinfo -h -N -t idle -o '%N' 2>/dev/null | sort -u | wc -l)
    [ "$idle" -ge 2 ] && break
    sleep 0.2
done
[ "$idle" -ge 2 ] || die "the two slurmd nodes did not become idle in 30 s (sinfo: $(sinfo -N 2>&1 | tr '\n' ' '))"

token=$(scontrol token username="$job_user" lifespan=7200 | sed -n 's/^SLURM_JWT=//p')
[ -n "$token" ] || die "scontrol token gave no token"
printf '%s' "$token" > "$dir/token"
chown "$job_user" "$dir/token"
chmod 0600 "$dir/token"

SLURM_JWT=daemon slurmrestd -u nobody -g nogroup -a rest_auth/jwt -s openapi/v0.0.38 "127.0.0.1:$rest_port" \
    >"$dir/slurmrestd.log" 2>&1 & pids+=($!)
up=""
for _ in $(seq 100); do
    if curl -sf -H "X-SLURM-USER-NAME: $job_user" -H "X-SLURM-USER-TOKEN: $token" \
        "http://127.0.0.1:$rest_port/slurm/v0.0.38/ping" >/dev/null 2>&1; then up=1; break; fi
    sleep 0.1
done
[ -n "$up" ] || die "slurmrestd did not answer on 127.0.0.1:$rest_port"

mkdir -p "$dir/shared"
chown "$job_user" "$dir/shared"
chmod 0755 "$dir/shared"

export TRAINYARD_TEST_SLURM_URL="http://127.0.0.1:$rest_port"
export TRAINYARD_TEST_SLURM_USER="$job_user"
export TRAINYARD_TEST_SLURM_TOKEN_FILE="$dir/token"
export TRAINYARD_TEST_SLURM_SHARED="$dir/shared"
echo "tests/slurm/cluster.sh: cluster up (slurmrestd $TRAINYARD_TEST_SLURM_URL, nodes n1 n2, jobs run as $job_user)"
command_ran=1
set +e
"$@"
status=$?
set -e
exit "$status"
