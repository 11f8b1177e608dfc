#!/usr/bin/env bash
# Runs a campaign's stages in order on this machine:
#   fetch-data → meta-train-generator → propose-architectures → gtn-evaluate
#   → real-evaluate → report
# Every stage resumes or skips finished work, so running this again continues
# an interrupted campaign. Stops at the first stage that fails, is
# interrupted (exit 75: run again), or is not built yet. Exits with the
# report's status: 0 when its check passes, 3 when it fails.
#
#   scripts/run-campaign.sh [PIPELINE]     default: pipelines/default.json
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
pipeline="${1:-pipelines/default.json}"
case "$pipeline" in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
if [ ! -f "$pipeline" ]; then
    echo "run-campaign: pipeline file $pipeline does not exist (expected e.g. pipelines/default.json)" >&2
    exit 2
fi
bin=.build/release
for stage in fetch-data meta-train-generator propose-architectures gtn-evaluate real-evaluate report; do
    if [ ! -x "$bin/$stage" ]; then
        echo "run-campaign: stage '$stage' is not part of this version yet; stopping after the stages that exist"
        exit 0
    fi
    "$bin/$stage" --pipeline "$pipeline"
    status=$?
    case $status in
        0) ;;
        3) echo "run-campaign: the report's check FAILED (the GTN ranking is below the pipeline's Spearman threshold, worse than a baseline, or incomplete); read the report named above"; exit 3 ;;
        75) echo "run-campaign: $stage stopped early with its progress saved; run this command again to continue"; exit 75 ;;
        *) echo "run-campaign: $stage failed (exit $status)" >&2; exit $status ;;
    esac
done
