#!/usr/bin/env bash
# One cron tick of a campaign: takes the campaign's lock, runs the stages in
# order (finished ones skip at once) until the time budget is spent or a
# stage stops early, and exits. Put it in a crontab with a budget shorter
# than the period; docs/cron.md explains, e.g. every 10 minutes:
#   */10 * * * * cd /srv/gtn-nas && scripts/cron/tick.sh pipelines/default.json --budget 480 >>cron.log 2>&1
#
#   scripts/cron/tick.sh PIPELINE [--budget SECONDS] [--workers N] [-- STAGE OPTIONS...]
#
# --budget S     time for the whole tick (default 480); each stage gets what is
#                left as --max-seconds and finishes its current unit after it
# --workers N    job-table workers run side by side for gtn-evaluate and
#                real-evaluate (default 1), the cores split between them
#                (OPENBLAS_NUM_THREADS, unless set, is cores / N)
# STAGE OPTIONS  go to every stage, e.g. -- --journal delete
# A tick that finds another tick of the same campaign holding the lock says so
# and exits 0. Exit status: 0 campaign complete (or lock held), 75 work
# remains (the next tick continues), otherwise the failing stage's status
# (1 error, 2 bad input, 3 report written but its check failed).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib/stages.sh
source "$root/scripts/lib/stages.sh"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "tick: $1" >&2; exit 2; }

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    ""|-*) usage >&2; exit 2 ;;
esac
pipeline=$1
shift
budget=480
workers=1
stage_options=()
while [ $# -gt 0 ]; do
    case $1 in
        --budget) budget=${2-}; shift ;;
        --budget=*) budget=${1#--budget=} ;;
        --workers) workers=${2-}; shift ;;
        --workers=*) workers=${1#--workers=} ;;
        --) shift; stage_options=("$@"); break ;;
        *) fail "unknown option '$1' (expected --budget, --workers or -- STAGE OPTIONS; see --help)" ;;
    esac
    shift
done
[[ $budget =~ ^[1-9][0-9]*$ ]] || fail "--budget: expected a positive number of seconds, found '$budget'"
[[ $workers =~ ^[1-9][0-9]*$ ]] || fail "--workers: expected a positive integer, found '$workers'"
gtn_locate tick "$root" "$pipeline" || exit
pipeline=$GTN_PIPELINE bin=$GTN_BIN

cd "$root" || exit 1
gtn_campaign_init "$bin" "$pipeline" "${stage_options[@]}" || exit
# One lock per campaign database, held (fd 9) until this process exits.
lock=$GTN_DB.tick.lock
exec 9>>"$lock"
if ! flock --nonblock 9; then
    echo "tick: another tick of campaign $GTN_CAMPAIGN holds $lock; nothing to do"
    exit 0
fi
echo "tick: campaign $GTN_CAMPAIGN, budget ${budget}s, at $(date -u '+%F %T UTC')"

# Runs STAGE with the time left: one process, or WORKERS job-table workers.
run_stage() {
    local stage=$1 seconds=$2 count=1
    ! gtn_drains_jobs "$stage" || count=$workers
    gtn_run_workers "$count" "cron-$(hostname)-$$" \
        "$bin/$stage" --pipeline "$pipeline" --max-seconds "$seconds" "${stage_options[@]}"
}

deadline=$((SECONDS + budget))
for stage in "${GTN_STAGES[@]}"; do
    left=$((deadline - SECONDS))
    if [ "$left" -le 0 ]; then
        echo "tick: budget spent before $stage; the next tick continues"
        exit 75
    fi
    status=0
    run_stage "$stage" "$left" || status=$?
    case $status in
        0) ;;
        75) echo "tick: $stage stopped with its progress saved; the next tick continues"; exit 75 ;;
        3) echo "tick: campaign $GTN_CAMPAIGN complete, but $GTN_CHECK_FAILED"; exit 3 ;;
        *) echo "tick: $stage failed (exit $status); \`campaign status --db $GTN_DB\` shows why" >&2; exit "$status" ;;
    esac
done
echo "tick: campaign $GTN_CAMPAIGN complete"
