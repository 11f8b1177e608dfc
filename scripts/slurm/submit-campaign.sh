#!/usr/bin/env bash
# Submits a campaign to Slurm as a chain of jobs, each one starting when the
# one before it has completed (afterok):
#   fetch-data → meta-train-generator → propose-architectures
#   → gtn-evaluate (array of N workers) → real-evaluate (array of N) → report
# Finished stages skip, so submitting the same command again resumes the
# campaign. While jobs of the campaign are still queued or running, a new
# chain waits for them to end (afterany), so no stage ever runs twice at once.
#
#   scripts/slurm/submit-campaign.sh PIPELINE [--workers N] [SBATCH OPTIONS...] [-- STAGE OPTIONS...]
#
# --workers N      array tasks (job-table workers) of gtn-evaluate and real-evaluate (default 4)
# SBATCH OPTIONS   go to every job and override the #SBATCH defaults of
#                  scripts/slurm/*.sbatch, e.g. --partition=cpu --time=2:00:00
# STAGE OPTIONS    go to every stage, e.g. -- --journal delete
# Jobs run in the repository root (relative paths are relative to it); logs
# go to <campaign artifacts>/slurm/. docs/slurm.md has the details.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib/stages.sh
source "$root/scripts/lib/stages.sh"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "submit-campaign: $1" >&2; exit "${2:-2}"; }

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    ""|-*) usage >&2; exit 2 ;;
esac
pipeline=$1
shift
workers=4
sbatch_options=()
stage_options=()
while [ $# -gt 0 ]; do
    case $1 in
        --workers) workers=${2-}; shift ;;
        --workers=*) workers=${1#--workers=} ;;
        --) shift; stage_options=("$@"); break ;;
        *) sbatch_options+=("$1") ;;
    esac
    shift
done
[[ $workers =~ ^[1-9][0-9]*$ ]] || fail "--workers: expected a positive integer, found '$workers'"
gtn_locate submit-campaign "$root" "$pipeline" || exit
pipeline=$GTN_PIPELINE bin=$GTN_BIN
command -v sbatch >/dev/null || fail "sbatch not found: run this on a Slurm login node" 1

# The jobs find the scripts and binaries through these (sbatch passes the
# submitting environment on) and run in the repository root.
export GTN_NAS_ROOT=$root GTN_NAS_BIN=$bin
cd "$root"
gtn_campaign_init "$bin" "$pipeline" "${stage_options[@]}" || exit
case $GTN_ARTIFACTS in /*) ;; *) GTN_ARTIFACTS=$root/$GTN_ARTIFACTS ;; esac
case $GTN_DB in /*) ;; *) GTN_DB=$root/$GTN_DB ;; esac
logs=$GTN_ARTIFACTS/slurm
mkdir -p "$logs"  # Slurm does not create the directory of --output

# Jobs of this campaign still in the queue: the chain is named CAMPAIGN.STAGE.
queued=$(squeue --noheader --user="$(id -un)" --format='%F %j') ||
    fail "squeue failed (see above): is the Slurm controller reachable from here?" 1
live=$(awk -v prefix="$GTN_CAMPAIGN." 'index($2, prefix) == 1 { print $1 }' <<<"$queued" | sort -u | paste -sd: -)
dependency=""
if [ -n "$live" ]; then
    dependency="afterany:$live"
    echo "submit-campaign: jobs of campaign $GTN_CAMPAIGN are still queued or running ($live); the new chain starts after they end"
fi

chain=()
for stage in "${GTN_STAGES[@]}"; do
    options=(--parsable --job-name="$GTN_CAMPAIGN.$stage" --kill-on-invalid-dep=yes --output="$logs/%x-%j.out")
    ! gtn_drains_jobs "$stage" || options+=(--array="1-$workers" --output="$logs/%x-%A_%a.out")
    [ -z "$dependency" ] || options+=(--dependency="$dependency")
    id=$(sbatch "${options[@]}" "${sbatch_options[@]}" "$root/scripts/slurm/$stage.sbatch" "$pipeline" "${stage_options[@]}")
    id=${id%%;*}  # --parsable prints JOBID or JOBID;CLUSTER
    chain+=("$stage $id")
    dependency="afterok:$id"
done

echo "submit-campaign: campaign $GTN_CAMPAIGN ($GTN_DB), $workers workers per evaluation stage:"
for entry in "${chain[@]}"; do printf '  %-22s job %s\n' "${entry% *}" "${entry#* }"; done
echo "  watch:  squeue -u $(id -un)    and    $bin/campaign status --db $GTN_DB"
echo "  logs:   $logs/"
