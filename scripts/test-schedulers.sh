#!/usr/bin/env bash
# Tests of the Slurm and cron front ends, after a release build
# (`swift build -c release`): shellcheck over every script, the cron tick on
# the tiny campaign, then the tiny campaign on a real single-node Slurm
# (installs Debian's Slurm packages; needs root). A test that cannot run
# here exits 77 and is reported as SKIPPED, which fails the run when CI is
# set. Exits non-zero if any test failed.
#
#   scripts/test-schedulers.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

failed=0
for test in shellcheck cron-tick slurm-campaign; do
    echo "test-schedulers: $test"
    start=$SECONDS
    status=0
    "scripts/tests/$test.sh" || status=$?
    took=$((SECONDS - start))
    case $status in
        0) echo "test-schedulers: $test passed (${took}s)" ;;
        77) if [ -n "${CI:-}" ]; then
                echo "test-schedulers: $test SKIPPED, which fails under CI" >&2
                failed=1
            else
                echo "test-schedulers: $test SKIPPED (see its message above)"
            fi ;;
        *) echo "test-schedulers: $test FAILED (exit $status, ${took}s)" >&2; failed=1 ;;
    esac
done
exit "$failed"
