#!/usr/bin/env bash
# The cron tick (scripts/cron/tick.sh) on the tiny campaign, in a temporary
# directory:
#  1. two ticks started at the same moment: one runs the stages, the other
#     finds the campaign's lock held and exits 0 without running anything
#     (every stage run in the database is the first tick's);
#  2. ticks with a short budget, one after the other as cron would start
#     them, complete the campaign: some tick stops with work left (75) and
#     some stage is cut short by its --max-seconds and resumed by a later
#     tick, the last one says complete (0), every architecture is scored
#     once and the report is written.
# Needs a release build. So that a tick's budget runs out on any machine,
# fast or slow, the test runs a copy of tiny.json whose truth runs take 128
# steps instead of 32: real-evaluate alone then takes about three budgets.
#
#   scripts/tests/cron-tick.sh
#   GTN_TEST_PIPELINE=FILE   another pipeline, used as it is (default: pipelines/tiny.json, 128 truth steps)
#   GTN_TEST_TICK_BUDGET=S   each tick's --budget (default 5)
#   KEEP=1                   keep the temporary directory
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pipeline=$root/${GTN_TEST_PIPELINE:-pipelines/tiny.json}
case ${GTN_TEST_PIPELINE:-} in /*) pipeline=$GTN_TEST_PIPELINE ;; esac
bin=${GTN_NAS_BIN:-$root/.build/release}
budget=${GTN_TEST_TICK_BUDGET:-5}
# shellcheck source=scripts/tests/campaign-db.sh
source scripts/tests/campaign-db.sh

say() { echo "cron-test: $*"; }
fail() { echo "cron-test: FAIL: $*" >&2; exit 1; }

[ -x "$bin/report" ] || fail "$bin/report is not built; run \`swift build -c release\` first"
[ -f "$pipeline" ] || fail "no pipeline file $pipeline"
work=$(mktemp -d /tmp/gtn-cron-test.XXXXXX)
if [ -z "${GTN_TEST_PIPELINE:-}" ]; then
    sed 's/"steps": 32,/"steps": 128,/' "$pipeline" >"$work/tiny.json"
    grep -q '"steps": 128,' "$work/tiny.json" || fail "pipelines/tiny.json has no \"steps\": 32 to lengthen"
    pipeline=$work/tiny.json
fi
db=$work/campaign.sqlite
artifacts=$work/artifacts
started=$SECONDS
finish() {
    local status=$?
    if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then say "kept $work"; else rm -rf "$work"; fi
    [ "$status" -eq 0 ] && say "PASS in $((SECONDS - started)) s"
}
trap finish EXIT

query() { db_query "$db" "$1"; }
tick() { scripts/cron/tick.sh "$pipeline" --budget "$1" --workers 2 -- --db "$db" --artifacts "$artifacts"; }

say "1. two ticks at once"
tick "$budget" >"$work/tick-a.log" 2>&1 & a=$!
tick "$budget" >"$work/tick-b.log" 2>&1 & b=$!
status_a=0; wait "$a" || status_a=$?
status_b=0; wait "$b" || status_b=$?
sed 's/^/  a| /' "$work/tick-a.log"
sed 's/^/  b| /' "$work/tick-b.log"
held=$(grep -l "holds .*nothing to do" "$work"/tick-[ab].log | wc -l)
[ "$held" -eq 1 ] || fail "expected exactly one tick to find the lock held, found $held"
loser=a; loser_status=$status_a; winner_status=$status_b
if grep -q "holds .*nothing to do" "$work/tick-b.log"; then loser=b; loser_status=$status_b; winner_status=$status_a; fi
[ "$loser_status" -eq 0 ] || fail "the tick that found the lock held exited $loser_status, expected 0"
[ "$winner_status" -eq 0 ] || [ "$winner_status" -eq 75 ] || fail "the tick holding the lock exited $winner_status"
if grep -qE '^[a-z-]+: (running|skipping):' "$work/tick-$loser.log"; then fail "the tick without the lock ran a stage"; fi
# Every stage process records one stage run and prints one "running:" or
# "skipping:" line: all the runs in the database are the winner's.
winner=a; [ "$loser" = a ] && winner=b
runs=$(query "SELECT count(*) FROM stage_runs")
printed=$(grep -cE '^[a-z-]+: (running|skipping):' "$work/tick-$winner.log" || true)
[ "$runs" = "$printed" ] || fail "$runs stage runs in the database, but the tick holding the lock started $printed"
say "one tick ran $(query "SELECT group_concat(stage, ', ') FROM stage_runs WHERE decision = 'run'"), the other exited 0 at the lock"

say "2. ticks of ${budget}s until the campaign is complete"
ticks=0; stopped_early=0
while :; do
    ticks=$((ticks + 1))
    [ "$ticks" -le 60 ] || fail "not complete after 60 ticks"
    status=0
    tick "$budget" >"$work/tick-$ticks.log" 2>&1 || status=$?
    say "tick $ticks: exit $status: $(tail -n 1 "$work/tick-$ticks.log")"
    case $status in
        0) break ;;
        75) stopped_early=$((stopped_early + 1)) ;;
        # The report's check may fail on a campaign this small; the campaign is complete all the same.
        3) grep -q "tick: campaign .* complete, but the report's check FAILED" "$work/tick-$ticks.log" || { cat "$work/tick-$ticks.log" >&2; fail "tick $ticks exited 3"; }
           break ;;
        *) cat "$work/tick-$ticks.log" >&2; fail "tick $ticks exited $status" ;;
    esac
done
grep -q "tick: campaign .* complete" "$work/tick-$ticks.log" \
    || fail "the last tick did not say the campaign is complete"
[ "$stopped_early" -ge 1 ] || fail "no tick stopped at its budget; the budget test needs a smaller --budget"
cut=$(query "SELECT count(*) FROM stage_runs WHERE exit_status = 75")
[ "$cut" -ge 1 ] || fail "no stage was stopped by its --max-seconds; the budget test needs a smaller --budget"

architectures=$(pipeline_field "$pipeline" search architectures)
jobs=$(query "SELECT count(*), sum(state = 'done') FROM jobs WHERE stage = 'gtn-evaluate'")
[ "$jobs" = "$architectures	$architectures" ] || fail "gtn-evaluate jobs (count, done): $jobs; expected $architectures each"
twice=$(query "SELECT a.job_id FROM job_attempts a JOIN jobs j ON a.job_id = j.id WHERE j.stage = 'gtn-evaluate'
               AND a.outcome = 'complete' GROUP BY a.job_id HAVING count(*) != 1")
[ -z "$twice" ] || fail "gtn-evaluate jobs completed more than once: $twice"
[ -s "$artifacts/report.md" ] || fail "no report at $artifacts/report.md"
say "complete after $ticks ticks ($stopped_early stopped at the budget, $cut stage runs cut by --max-seconds); $architectures architectures scored once each; report written"
