# shellcheck shell=bash
# A throwaway single-node Slurm cluster for tests, started without systemd
# (sourced by scripts/tests/slurm-campaign.sh; needs root):
#   slurm_install             installs slurmctld, slurmd, slurm-client and munge
#                             from Debian's packages when missing
#   slurm_cluster_start DIR   starts munged, slurmctld and slurmd with their own
#                             config, key, state, spool and logs under DIR (node
#                             "localhost" at 127.0.0.1); sets SLURM_TEST_CONF.
#                             munged needs every ancestor of DIR searchable by
#                             all (mktemp -d makes 0700 directories)
#   slurm_cluster_stop        cancels every job, waits for them to end, then
#                             stops slurmd, slurmctld and munged by their PIDs
#   sl COMMAND...             runs a Slurm client command against this cluster
# The daemons run in the foreground as children of the calling shell, so
# their PIDs are exact; nothing is ever looked up or stopped by name.

SLURM_TEST_CONF=""
slurm_test_pids=()  # munged slurmctld slurmd, in start order

sl() { SLURM_CONF=$SLURM_TEST_CONF "$@"; }

slurm_install() {
    if command -v slurmctld && command -v slurmd && command -v sbatch && command -v munged; then
        return 0
    fi >/dev/null
    # Debian's maintainer scripts start the services unless policy-rc.d says no.
    local policy=/usr/sbin/policy-rc.d created=0 status=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        created=1
    fi
    local packages=(slurmctld slurmd slurm-client munge)
    echo "slurm-test: installing ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; } ||
        status=$?
    if [ "$created" -eq 1 ]; then rm -f "$policy"; fi
    return "$status"
}

# A TCP port nothing listens on (bash's /dev/tcp connects or fails).
slurm_free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# Waits up to $1 seconds for the command to succeed.
slurm_wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

slurm_node_idle() { [ "$(sl sinfo --noheader --format=%T 2>/dev/null)" = idle ]; }
slurm_queue_empty() { [ -z "$(sl squeue --noheader --format=%i 2>/dev/null)" ]; }

slurm_cluster_start() {
    local d=$1
    mkdir -p "$d"/{etc,munge,state,spool,log,run}
    chmod 0755 "$d"/{etc,munge,state,spool,log,run}
    head -c 1024 /dev/urandom >"$d/etc/munge.key"
    chmod 0400 "$d/etc/munge.key"
    munged --foreground --socket="$d/munge/munge.socket" --key-file="$d/etc/munge.key" \
        --log-file="$d/log/munged.log" --pid-file="$d/run/munged.pid" --seed-file="$d/munge/munged.seed" >>"$d/log/munged.out" 2>&1 &
    slurm_test_pids+=($!)
    if ! slurm_wait_for 10 test -S "$d/munge/munge.socket"; then
        echo "slurm-test: munged did not start; its log:" >&2
        cat "$d/log/munged.log" >&2
        return 1
    fi

    # The node as slurmd sees the hardware (CPUs, sockets, cores, memory),
    # renamed "localhost" so nothing depends on the machine's hostname.
    local hardware
    hardware=$(slurmd -C | sed -n '1{s/^NodeName=[^ ]* //;s/ UpTime=.*//;p}')
    SLURM_TEST_CONF=$d/etc/slurm.conf
    cat >"$SLURM_TEST_CONF" <<EOF
ClusterName=gtntest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(slurm_free_port)
SlurmdPort=$(slurm_free_port)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again
AuthInfo=socket=$d/munge/munge.socket,cred_expire=10
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$d/log/jobcomp.txt
# a requeued job may start once its BeginTime passes: look every 5 s, not 60
SchedulerParameters=batch_sched_delay=0,sched_interval=5
MailProg=/bin/true
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    # Plain commands, not `sl`: a backgrounded function would be a subshell,
    # and $! its PID rather than the daemon's.
    SLURM_CONF=$SLURM_TEST_CONF slurmctld -D >>"$d/log/slurmctld.out" 2>&1 &
    slurm_test_pids+=($!)
    SLURM_CONF=$SLURM_TEST_CONF slurmd -D -N localhost >>"$d/log/slurmd.out" 2>&1 &
    slurm_test_pids+=($!)
    if ! slurm_wait_for 30 slurm_node_idle; then
        echo "slurm-test: the node did not become idle within 30 s; sinfo and the logs:" >&2
        sl sinfo >&2 || true
        tail -n 20 "$d"/log/slurm*.log >&2
        return 1
    fi
    echo "slurm-test: single-node cluster up (config $SLURM_TEST_CONF; munged, slurmctld, slurmd PIDs ${slurm_test_pids[*]})"
}

slurm_cluster_stop() {
    [ ${#slurm_test_pids[@]} -gt 0 ] || return 0
    local status=0
    # Job steps first: scancel signals them and slurmd reaps them.
    if [ ${#slurm_test_pids[@]} -ge 3 ] && kill -0 "${slurm_test_pids[1]}" 2>/dev/null; then
        sl scancel --user="$(id -un)" 2>/dev/null || true
        if ! slurm_wait_for 60 slurm_queue_empty; then
            echo "slurm-test: jobs still in the queue 60 s after scancel:" >&2
            sl squeue >&2 || true
            status=1
        fi
    fi
    local index pid
    for ((index = ${#slurm_test_pids[@]} - 1; index >= 0; index--)); do
        pid=${slurm_test_pids[index]}
        kill -TERM "$pid" 2>/dev/null || continue
        if ! slurm_wait_for 15 eval "! kill -0 $pid 2>/dev/null"; then
            echo "slurm-test: PID $pid did not stop on SIGTERM within 15 s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            status=1
        fi
        wait "$pid" 2>/dev/null || true
    done
    slurm_test_pids=()
    return "$status"
}

# Processes started by this cluster that outlived it (slurmstepd can outlive
# slurmd): every one carries this cluster's SLURM_CONF in its environment.
slurm_leftover_pids() {
    local environ pid
    [ -n "$SLURM_TEST_CONF" ] || return 0
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}
        pid=${pid%/environ}
        if grep -qzxF "SLURM_CONF=$SLURM_TEST_CONF" "$environ" 2>/dev/null; then
            echo "$pid"
        fi
    done
}
