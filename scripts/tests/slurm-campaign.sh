#!/usr/bin/env bash
# The Slurm front end against a real Slurm: installs Debian's slurmctld,
# slurmd and munge when missing, starts a single-node cluster without systemd
# in a temporary directory (scripts/tests/single-node-slurm.sh), and
#  1. submits the tiny campaign with `submit-campaign.sh --workers 2`;
#  2. once both gtn-evaluate array tasks hold a job, sends task 1's batch
#     shell USR1 (Slurm's time-limit warning: the stage must release its job
#     and the task requeue itself) and cancels task 2 with scancel (it must
#     release its job and stay cancelled; the rest of that chain is then
#     cancelled by --kill-on-invalid-dep);
#  3. submits the same command again and polls until the queue is empty;
#  4. checks that every proposed architecture was scored exactly once (one
#     `complete` attempt per gtn-evaluate job, all done), that both stages
#     got their signal and stopped cleanly (every attempt of theirs ended
#     `complete` or `release`, none left to expire), that task 1 restarted
#     and task 2 did not, that every job of the second chain completed, and
#     that the report was written;
# then cancels what is left and stops slurmd, slurmctld and munged by their
# PIDs. Needs root and a release build; exits 77 (skipped) when not root.
#
#   scripts/tests/slurm-campaign.sh
#   GTN_TEST_PIPELINE=FILE   another pipeline (default pipelines/tiny.json)
#   KEEP=1                   keep the temporary directory (logs, database)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=scripts/tests/single-node-slurm.sh
source scripts/tests/single-node-slurm.sh
# shellcheck source=scripts/tests/campaign-db.sh
source scripts/tests/campaign-db.sh

say() { echo "slurm-test: $*"; }
fail() { echo "slurm-test: FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    say "skipped: needs root (installs Slurm, runs slurmctld and slurmd)"
    exit 77
fi
pipeline=$root/${GTN_TEST_PIPELINE:-pipelines/tiny.json}
case ${GTN_TEST_PIPELINE:-} in /*) pipeline=$GTN_TEST_PIPELINE ;; esac
bin=${GTN_NAS_BIN:-$root/.build/release}
for program in campaign fetch-data meta-train-generator propose-architectures gtn-evaluate real-evaluate report; do
    [ -x "$bin/$program" ] || fail "$bin/$program is not built; run \`swift build -c release\` first"
done
[ -f "$pipeline" ] || fail "no pipeline file $pipeline"

work=$(mktemp -d /tmp/gtn-slurm-test.XXXXXX)
chmod 0755 "$work"  # munged: every ancestor of its socket searchable by all
db=$work/campaign.sqlite
artifacts=$work/artifacts
started=$SECONDS

finish() {
    local status=$?
    trap - EXIT
    set +e
    if [ "$status" -ne 0 ] && [ -n "$SLURM_TEST_CONF" ]; then
        say "state at the failure:"
        sl squeue
        "$bin/campaign" status --db "$db"
        for log in "$artifacts"/slurm/*.out; do [ -f "$log" ] && { echo "== $log"; tail -n 15 "$log"; }; done
    fi
    slurm_cluster_stop || status=1
    local leftovers
    leftovers=$(slurm_leftover_pids | paste -sd' ' -)
    if [ -n "$leftovers" ]; then
        echo "slurm-test: FAIL: processes of the test cluster still running after teardown: $leftovers; killing them" >&2
        for pid in $leftovers; do kill -KILL "$pid" 2>/dev/null; done
        status=1
    fi
    if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then
        say "kept $work (logs: $work/cluster/log, $artifacts/slurm)"
    else
        rm -rf "$work"
    fi
    [ "$status" -eq 0 ] && say "PASS in $((SECONDS - started)) s"
    exit "$status"
}
trap finish EXIT

query() { db_query "$db" "$1"; }

# field JOB NAME: a field of `scontrol show job` (one line per array task).
field() { sl scontrol show job -o "$1" | grep -o "\b$2=[^ ]*" | cut -d= -f2; }

slurm_install
slurm_cluster_start "$work/cluster"

campaign=$(pipeline_field "$pipeline" campaign name)
architectures=$(pipeline_field "$pipeline" search architectures)
submit() {
    sl scripts/slurm/submit-campaign.sh "$pipeline" --workers 2 --cpus-per-task=1 --mem=100M --time=30 \
        -- --db "$db" --artifacts "$artifacts"
}

say "submitting campaign $campaign ($architectures architectures) with --workers 2"
submit
array=$(sl squeue --noheader --name="$campaign.gtn-evaluate" --format=%F | sort -u)
[[ $array =~ ^[0-9]+$ ]] || fail "expected one gtn-evaluate array in the queue, found '$array'"

say "waiting for both gtn-evaluate tasks of array $array to hold a job"
db_wait_for "$db" 900 "SELECT owner FROM jobs WHERE stage = 'gtn-evaluate' AND state = 'running' ORDER BY owner" \
    "slurm-$array-1 slurm-$array-2" || fail "timed out after 900 s waiting for both gtn-evaluate tasks to hold a job"
say "USR1 to task ${array}_1's batch shell (time-limit warning), scancel task ${array}_2"
sl scancel --batch --signal=USR1 "${array}_1"
sl scancel "${array}_2"

requeued() { [ "$(field "${array}_1" Restarts)" = 1 ]; }
slurm_wait_for 60 requeued || fail "task ${array}_1 did not requeue itself within 60 s"
task2_cancelled() { [ "$(field "${array}_2" JobState)" = CANCELLED ]; }
slurm_wait_for 60 task2_cancelled || fail "task ${array}_2 did not end cancelled within 60 s"

say "submitting the same command again"
output=$(submit 2>&1) || { echo "$output"; fail "the second submission failed"; }
echo "$output"
second=$(sed -n 's/^ *[a-z-]* *job \([0-9]*\)$/\1/p' <<<"$output")
[ "$(echo "$second" | wc -w)" -eq 6 ] || fail "expected six job ids from the second submission, found: $second"
say "waiting for the queue to empty"
slurm_wait_for 1200 slurm_queue_empty || fail "the queue did not empty within 1200 s"

say "checking"
# The last job is the report's: exit 3 (its check failed on a campaign this
# small) still means the campaign is complete and the report written.
report_job=$(echo "$second" | tail -n 1)
for id in $second; do
    for state in $(field "$id" JobState); do
        if [ "$state" = FAILED ] && [ "$id" = "$report_job" ] && field "$id" ExitCode | grep -q '^3:0$'; then continue; fi
        [ "$state" = COMPLETED ] || fail "job $id of the second chain ended $state ($(field "$id" ExitCode | paste -sd' ' -))"
    done
done
[ "$(field "${array}_1" JobState)" = COMPLETED ] || fail "requeued task ${array}_1 ended $(field "${array}_1" JobState)"
[ "$(field "${array}_2" Restarts)" = 0 ] || fail "cancelled task ${array}_2 was requeued"

jobs=$(query "SELECT count(*), count(DISTINCT parameters), sum(state = 'done') FROM jobs WHERE stage = 'gtn-evaluate'")
[ "$jobs" = "$architectures	$architectures	$architectures" ] ||
    fail "gtn-evaluate jobs (count, distinct architectures, done): $jobs; expected $architectures each"
scored_twice=$(query "SELECT j.id, count(*) FROM jobs j JOIN job_attempts a ON a.job_id = j.id
                      WHERE j.stage = 'gtn-evaluate' AND a.outcome = 'complete' GROUP BY j.id HAVING count(*) != 1")
[ -z "$scored_twice" ] || fail "gtn-evaluate jobs completed other than once (job, completions): $scored_twice"
# The signal may reach a worker inside a unit (it releases the job) or just
# between two (it stops before claiming the next): either way it stops
# cleanly, leaving no lease to expire. USR1 reaches the stage only through
# the batch shell (--signal=B:), so its log line proves the forwarding.
grep -q "interrupted by SIGUSR1" "$artifacts/slurm/$campaign.gtn-evaluate-${array}_1.out" ||
    fail "the stage of task ${array}_1 did not get the USR1 sent to its batch shell"
grep -q "interrupted by SIGTERM" "$artifacts/slurm/$campaign.gtn-evaluate-${array}_2.out" ||
    fail "the stage of task ${array}_2 did not get scancel's SIGTERM"
unclean=$(query "SELECT owner, attempt, outcome FROM job_attempts WHERE owner IN ('slurm-$array-1', 'slurm-$array-2')
                 AND (outcome IS NULL OR outcome NOT IN ('complete', 'release'))")
[ -z "$unclean" ] || fail "attempts of the signalled workers that did not end with complete or release: $unclean"
[ -s "$artifacts/report.md" ] || fail "no report at $artifacts/report.md"
say "$architectures architectures scored once each; both signalled workers stopped cleanly; report written"
query "SELECT owner, outcome, count(*) FROM job_attempts GROUP BY owner, outcome ORDER BY owner, outcome" |
    sed 's/^/slurm-test:   attempts /'
