#!/usr/bin/env bash
# Runs a campaign's stages in order on this machine:
#   fetch-data → meta-train-generator → propose-architectures → gtn-evaluate
#   → real-evaluate → report
# Every stage resumes or skips finished work, so running this again continues
# an interrupted campaign. Stops at the first stage that fails, is
# interrupted (exit 75: run again), or is not built (exit 1, naming what is missing). Exits with the
# report's status: 0 when its check passes, 3 when it fails.
#
#   scripts/run-campaign.sh [PIPELINE] [--workers N]     default: pipelines/default.json
#
# --workers N   job-table workers run side by side for gtn-evaluate and
#               real-evaluate, the cores split between them (OPENBLAS_NUM_THREADS,
#               unless set, is cores / N); default: one per core, at most 8
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib/stages.sh
source "$(pwd)/scripts/lib/stages.sh"
fail() { echo "run-campaign: $1" >&2; exit 2; }

pipeline=pipelines/default.json
cores=$(gtn_cores)
workers=$((cores < 8 ? cores : 8))
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --workers) workers=${2-}; shift ;;
        --workers=*) workers=${1#--workers=} ;;
        -*) fail "unknown option '$1' (expected --workers N or --help)" ;;
        *) pipeline=$1 ;;
    esac
    shift
done
[[ $workers =~ ^[1-9][0-9]*$ ]] || fail "--workers: expected a positive integer, found '$workers'"
# A missing pipeline (2) or a stage that is not built (1) stops here, loudly.
gtn_locate run-campaign . "$pipeline" || exit $?
for stage in "${GTN_STAGES[@]}"; do
    count=1
    ! gtn_drains_jobs "$stage" || count=$workers
    status=0
    gtn_run_workers "$count" "$(hostname)-$$" "$GTN_BIN/$stage" --pipeline "$pipeline" || status=$?
    case $status in
        0) ;;
        3) echo "run-campaign: $GTN_CHECK_FAILED"; exit 3 ;;
        75) echo "run-campaign: $stage stopped early with its progress saved; run this command again to continue"; exit 75 ;;
        *) echo "run-campaign: $stage failed (exit $status)" >&2; exit $status ;;
    esac
done
