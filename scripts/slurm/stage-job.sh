# shellcheck shell=bash
# The body of every batch script in scripts/slurm/ (sourced, never run):
#   gtn_slurm_stage STAGE PIPELINE [STAGE OPTIONS...]
# runs one stage inside a Slurm job and maps its exit status to Slurm:
#   0        the job completes (the next stage's afterok dependency is met)
#   75       the stage saved its progress and stopped (USR1 before the time
#            limit, preemption's SIGTERM, or "not ready yet"): the job requeues
#            itself with `scontrol requeue` and runs again later (Slurm holds
#            a requeued job back for the cluster's cred_expire, 120 s by
#            default); not when Slurm is already ending the job (scancel,
#            time limit) or after GTN_SLURM_MAX_REQUEUES restarts (default 100)
#   other    the job fails, and --kill-on-invalid-dep=yes cancels the rest of
#            the chain (report's 3, "check failed", is also a failed job)
# Paths: the stage binaries are in $GTN_NAS_BIN (default
# $GTN_NAS_ROOT/.build/release); GTN_NAS_ROOT defaults to the directory the
# job was submitted from. The job runs in that directory, so the campaign's
# default database and artifacts are queue/NAME.sqlite and artifacts/NAME/.

gtn_nas_root=${GTN_NAS_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
# shellcheck source=scripts/lib/stages.sh
source "$gtn_nas_root/scripts/lib/stages.sh"

# One BLAS thread per allocated CPU (OpenBLAS would otherwise start one per
# core of the node). The kernel family is each stage's own choice for the
# node's CPU (or OPENBLAS_CORETYPE, when the submitting environment sets it);
# the stage prints it in its "running:" line.
gtn_slurm_blas() {
    export OPENBLAS_NUM_THREADS=${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-1}}
}

# This job's state as slurmctld sees it (RUNNING, CANCELLED, ...). JOB is
# ARRAYJOB_TASK for an array task: a task's own SLURM_JOB_ID can be the id of
# the whole array, which `scontrol show job` and `scontrol requeue` read as
# every task of it.
gtn_slurm_job_state() {
    scontrol show job -o "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'
}

gtn_slurm_stage() {
    local stage=$1 pipeline=${2-}
    if [ -z "$pipeline" ]; then
        echo "usage: sbatch scripts/slurm/$stage.sbatch PIPELINE [STAGE OPTIONS...] (from the repository root)" >&2
        exit 2
    fi
    shift 2
    local bin=${GTN_NAS_BIN:-$gtn_nas_root/.build/release}
    local job=$SLURM_JOB_ID worker="slurm-$SLURM_JOB_ID"
    if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
        job=${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID
        worker="slurm-$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID"
    fi
    local restarts=${SLURM_RESTART_COUNT:-0} max_requeues=${GTN_SLURM_MAX_REQUEUES:-100}
    gtn_slurm_blas
    echo "slurm: $stage as $worker (job $job on $(hostname), restart $restarts," \
         "OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS${OPENBLAS_CORETYPE:+ OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE}) at $(date -u '+%F %T UTC')"
    if [ ! -x "$bin/$stage" ]; then
        echo "slurm: $bin/$stage does not exist; build with \`swift build -c release\` in $gtn_nas_root (or set GTN_NAS_BIN)" >&2
        exit 1
    fi
    local status=0
    gtn_run "$bin/$stage" --pipeline "$pipeline" --worker-id "$worker" "$@" || status=$?
    if [ "$status" -ne 75 ]; then
        echo "slurm: $stage exited with status $status"
        exit "$status"
    fi
    # Requeue only a job that is still running (the stage stopped on USR1, a
    # bare SIGTERM or "not ready"). When Slurm is already ending the job
    # (scancel, time limit, preemption without requeue) it shows COMPLETING
    # here, whatever the reason, and the user's or Slurm's decision stands.
    local state
    state=$(gtn_slurm_job_state "$job")
    if [ "$state" != RUNNING ]; then
        echo "slurm: $stage saved its progress; Slurm is ending job $job ($state), so it is not requeued (submit again to resume)"
        exit 75
    fi
    if [ "$restarts" -ge "$max_requeues" ]; then
        echo "slurm: $stage saved its progress but this job has been requeued $restarts times (GTN_SLURM_MAX_REQUEUES=$max_requeues); giving up (submit again to resume)" >&2
        exit 75
    fi
    if scontrol requeue "$job"; then
        echo "slurm: $stage saved its progress; job $job requeued (restart $((restarts + 1)))"
        exit 0
    fi
    echo "slurm: $stage saved its progress but \`scontrol requeue $job\` failed; submit again to resume" >&2
    exit 75
}
