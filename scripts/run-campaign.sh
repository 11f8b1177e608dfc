#!/usr/bin/env bash
# Runs a campaign's stages in order on this machine:
#   fetch-data → meta-train-generator → propose-architectures → gtn-evaluate
#   → real-evaluate → report
# Every stage resumes or skips finished work, so running this again continues
# an interrupted campaign. Stops at the first stage that fails, is
# interrupted (exit 75: run again), or is not built (exit 1, naming what is missing). Exits with the
# report's status: 0 when its check passes, 3 when it fails.
#
#   scripts/run-campaign.sh [PIPELINE]     default: pipelines/default.json
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib/stages.sh
source "$(pwd)/scripts/lib/stages.sh"
pipeline="${1:-pipelines/default.json}"
case "$pipeline" in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
# A missing pipeline (2) or a stage that is not built (1) stops here, loudly.
gtn_locate run-campaign . "$pipeline" || exit $?
for stage in "${GTN_STAGES[@]}"; do
    "$GTN_BIN/$stage" --pipeline "$pipeline"
    status=$?
    case $status in
        0) ;;
        3) echo "run-campaign: the report's check FAILED (the GTN ranking is below the pipeline's Spearman threshold, worse than a baseline, or incomplete); read the report named above"; exit 3 ;;
        75) echo "run-campaign: $stage stopped early with its progress saved; run this command again to continue"; exit 75 ;;
        *) echo "run-campaign: $stage failed (exit $status)" >&2; exit $status ;;
    esac
done
