# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# Shared by the Slurm batch scripts (scripts/slurm/) and the cron tick
# (scripts/cron/tick.sh); sourced, never run. Defines:
#   gtn_locate PROGRAM ROOT PIPELINE   checks the pipeline file and that the stages
#                                  are built; sets GTN_PIPELINE (absolute),
#                                  GTN_BIN ($GTN_NAS_BIN, default ROOT/.build/release)
#                                  and GTN_STAGES (the stages in campaign order, as
#                                  `campaign stages` lists them); returns 2 (no
#                                  pipeline) or 1 (not built)
#   gtn_drains_jobs STAGE          true when STAGE is a job worker (run many at once)
#   GTN_CHECK_FAILED               what exit status 3 of `report` means, for the
#                                  front ends to say
#   gtn_campaign_init BIN PIPELINE [STAGE OPTIONS...]
#                                  checks the pipeline and creates (or checks) the
#                                  campaign database with `campaign init`; sets
#                                  GTN_CAMPAIGN, GTN_DB and GTN_ARTIFACTS
#   gtn_run COMMAND...             runs COMMAND in the background, forwarding stop
#                                  signals to it, and returns its exit status
#   gtn_cores                      prints the number of cores this process may use
#   gtn_run_workers COUNT NAME COMMAND...
#                                  runs COUNT copies of a job stage's COMMAND side
#                                  by side (worker ids NAME-1 … NAME-COUNT), the
#                                  CPU's cores split between them, and returns the
#                                  worst status
#   gtn_wait_all PID...            waits for background PIDs, forwarding stop
#                                  signals to them; returns the worst status

gtn_locate() {
    local program=$1 root=$2 pipeline=$3 missing=() name kind listing
    if [ ! -f "$pipeline" ]; then
        echo "$program: pipeline file $pipeline does not exist (expected e.g. pipelines/default.json)" >&2
        return 2
    fi
    GTN_PIPELINE="$(cd "$(dirname "$pipeline")" && pwd)/$(basename "$pipeline")"
    GTN_BIN=${GTN_NAS_BIN:-$root/.build/release}
    GTN_STAGES=() GTN_JOB_STAGES=()
    if [ -x "$GTN_BIN/campaign" ] && listing=$("$GTN_BIN/campaign" stages); then
        while read -r name kind; do
            GTN_STAGES+=("$name")
            [ "$kind" != jobs ] || GTN_JOB_STAGES+=("$name")
        done <<<"$listing"
    else
        missing+=(campaign)
    fi
    for name in "${GTN_STAGES[@]}"; do
        [ -x "$GTN_BIN/$name" ] || missing+=("$name")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "$program: not built in $GTN_BIN: ${missing[*]}" >&2
        echo "HINT: run \`swift build -c release\` in $root (or set GTN_NAS_BIN)" >&2
        return 1
    fi
}

GTN_CHECK_FAILED="the report's check FAILED (the GTN ranking is below the pipeline's Spearman threshold, worse than a baseline, or incomplete); read the report named above"

gtn_drains_jobs() {
    local name
    for name in "${GTN_JOB_STAGES[@]}"; do
        [ "$name" != "$1" ] || return 0
    done
    return 1
}

# The campaign's name, database and artifacts directory, as `campaign init`
# reports them ("campaign NAME: database PATH, artifacts DIR, journal MODE").
# Of the stage options only those `campaign init` understands are passed on;
# --artifacts (which init does not take) overrides the reported directory.
gtn_campaign_init() {
    local bin=$1 pipeline=$2
    shift 2
    local init_args=() artifacts="" line
    while [ $# -gt 0 ]; do
        case $1 in
            --db|--journal|--campaign) init_args+=("$1" "${2-}"); shift ;;
            --db=*|--journal=*|--campaign=*|--force) init_args+=("$1") ;;
            --artifacts) artifacts=${2-}; shift ;;
            --artifacts=*) artifacts=${1#--artifacts=} ;;
        esac
        shift
    done
    line=$("$bin/campaign" init --pipeline "$pipeline" "${init_args[@]}") || return
    if [[ ! $line =~ ^campaign\ ([^:]+):\ database\ (.*),\ artifacts\ (.*),\ journal\ [a-z]+$ ]]; then
        echo "unexpected output from \`campaign init\`: $line" >&2
        return 1
    fi
    GTN_CAMPAIGN=${BASH_REMATCH[1]}
    GTN_DB=${BASH_REMATCH[2]}
    GTN_ARTIFACTS=${artifacts:-${BASH_REMATCH[3]}}
}

# A stage checkpoints and exits 75 on any of these; a batch system sends
# them to the shell (Slurm's --signal=B:USR1@120 only to the shell), so the
# shell passes them on instead of dying and leaving the stage to be killed.
gtn_forward_signals() {
    local signal
    for signal in TERM INT HUP USR1 USR2; do
        # shellcheck disable=SC2064  # expand the PIDs now
        trap "kill -s $signal $* 2>/dev/null" "$signal"
    done
}

# `wait PID` returns early (status > 128) when a trapped signal arrives; wait
# again until the process has really ended. A second wait that finds the
# process already collected (127) means the first status was its own.
gtn_wait() {
    local pid=$1 status=0 again
    wait "$pid" || status=$?
    while [ "$status" -gt 128 ]; do
        again=0
        wait "$pid" 2>/dev/null || again=$?
        [ "$again" -eq 127 ] && break
        status=$again
    done
    return "$status"
}

# Waits for every PID, forwarding stop signals to all of them meanwhile, and
# returns the worst status: a failure before 75 (progress saved) before 0.
gtn_wait_all() {
    local pid status worst=0
    gtn_forward_signals "$@"
    for pid in "$@"; do
        status=0
        gtn_wait "$pid" || status=$?
        if [ "$worst" -eq 0 ] || [ "$worst" -eq 75 ]; then
            [ "$status" -eq 0 ] || worst=$status
        fi
    done
    trap - TERM INT HUP USR1 USR2
    return "$worst"
}

gtn_run() {
    "$@" &
    gtn_wait_all "$!"
}

# BLAS threads for each of COUNT processes sharing this machine's cores: the
# user's OPENBLAS_NUM_THREADS when set, else cores / COUNT (at least 1). Two
# one-thread workers keep both cores of a small machine busy where one
# two-thread worker leaves one idle between its small matrix products.
gtn_threads_per_worker() {
    local count=$1 cores
    if [ -n "${OPENBLAS_NUM_THREADS:-}" ]; then
        echo "$OPENBLAS_NUM_THREADS"
        return
    fi
    cores=$(gtn_cores)
    echo $((cores / count > 0 ? cores / count : 1))
}

gtn_cores() {
    nproc 2>/dev/null || echo 1
}

gtn_run_workers() {
    local count=$1 name=$2 threads index pids=()
    shift 2
    threads=$(gtn_threads_per_worker "$count")
    for ((index = 1; index <= count; index++)); do
        OPENBLAS_NUM_THREADS=$threads "$@" --worker-id "$name-$index" &
        pids+=($!)
    done
    gtn_wait_all "${pids[@]}"
}
