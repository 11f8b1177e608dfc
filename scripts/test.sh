#!/usr/bin/env bash
# Runs the whole test suite: the Swift tests in release mode (numeric code is
# far too slow in debug builds), then the scheduler tests (shellcheck, the
# cron tick, a real single-node Slurm; scripts/test-schedulers.sh, which
# needs root to install Slurm). Extra arguments go to `swift test` only and
# skip the scheduler tests (e.g. scripts/test.sh --filter GradCheck).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
swift test -c release -Xswiftc -enable-testing "$@"
if [ "$#" -eq 0 ]; then
    scripts/test-schedulers.sh
fi
